import AttnCore
import Foundation

/// A `LiteCheckpoint` on disk: JSON (non-finite numbers as "inf", "-inf", "nan",
/// AttnKit.docc/Conventions.md), rewritten by temp file and rename after every step,
/// so a killed run resumes from its last finished step (`LiteTrajectoryRun.run`).
/// Checked by `LiteCheckpointFileTests` and `BlockSparseCLITests`.
extension LiteCheckpoint {
    /// The checkpoint at `path` if one exists, else nil.
    /// - Throws: `AttnError.usage` (parameter `.checkpoint`) if the file is not a
    ///   checkpoint, or was written by a run whose `fingerprint` differs.
    public static func load(from path: String, fingerprint: String) throws -> LiteCheckpoint? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let data = FileManager.default.contents(atPath: path),
            let c = try? dec.decode(LiteCheckpoint.self, from: data)
        else { throw AttnError.usage(.checkpoint, "\(path): not a lite checkpoint") }
        guard c.fingerprint == fingerprint else {
            throw AttnError.usage(.checkpoint, "\(path): written by a run with other parameters")
        }
        return c
    }

    /// Writes the checkpoint to `path` atomically.
    public func save(to path: String) throws {
        let enc = JSONEncoder()
        enc.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(try enc.encode(self), to: URL(fileURLWithPath: path))
    }
}

extension LiteStepReport {
    /// The columns of a `lite` run CSV, one row per step.
    public static let csvHeader = [
        "step", "computed_tiles", "total_tiles", "skipped_fraction", "newly_marked", "max_abs_error",
        "seconds", "dense_seconds", "time_ratio",
    ]

    /// This step's row, numbers in shortest round-trip form.
    public var csvFields: [String] {
        let n = CSV.number
        return [
            String(step), String(computedTiles), String(totalTiles), n(skippedFraction), String(newlyMarked),
            n(maxAbsError), n(seconds), n(denseSeconds), n(seconds / denseSeconds),
        ]
    }
}
