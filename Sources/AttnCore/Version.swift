/// The attnbound release.
///
/// One string, kept equal to CITATION.cff's `version:` by `scripts/bump-version.sh X.Y.Z`
/// (which edits both) and checked by `VersionTests` (which reads CITATION.cff), so a
/// paper citing a version cites the code that printed it in every sidecar and `--version`.
public enum AttnVersion {
    public static let current = "0.1.0"
}
