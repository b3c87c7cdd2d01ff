import ArgumentParser
import Foundation

/// `--threads`, shared by every command that runs workers, validated once.
struct ThreadsOption: ParsableArguments {
    @Option(help: "Worker threads (default: every active core).")
    var threads: Int?

    func validate() throws {
        if let t = threads, !(1...1024).contains(t) { throw ValidationError("--threads must be in 1...1024") }
    }

    /// The count to use: the flag's, or every active core.
    var count: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }
}

/// An output path spelled `--out` / `-o` (CONVENTIONS.md, "Options"), with the
/// command's former spelling `legacy` (`--output`, `--csv`) accepted, hidden,
/// for one version. Declared per command as two options; this resolves them.
func resolvedOutput(_ out: String?, legacy: String?, legacyFlag: String) throws -> String? {
    if out != nil && legacy != nil { throw ValidationError("give --out or \(legacyFlag), not both") }
    return out ?? legacy
}
