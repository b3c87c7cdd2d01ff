import AttnCore
import AttnKernels
import Foundation

/// The sweep's and regime's sidecars, in the one schema of `Sidecar` (AttnKernels).
/// Timings live in the sweep sidecar, not in the CSV, so the CSV stays byte-reproducible.
extension Sidecar {
    static func sweep(
        version: String, argv: [String], runner: SweepRunner, started: Date, wallSeconds: Double,
        pointsTotal: Int, pointsInShard: Int, measured: Int, resumed: Int, csvText: String
    ) -> Sidecar {
        let table = (try? SweepTable(csv: csvText)) ?? SweepTable.empty
        return Sidecar(
            command: "sweep", parameters: runner.configuration.json, seed: runner.configuration.seed,
            argv: argv,
            extra: [
                ("fingerprint", .string(runner.fingerprint)),
                ("backend", .string(runner.backend.name)),
                ("shard", .object([("index", .int(runner.shard.index)), ("count", .int(runner.shard.count))])),
                ("points_total", .int(pointsTotal)),
                ("points_in_shard", .int(pointsInShard)),
                ("points_measured", .int(measured)),
                ("points_resumed", .int(resumed)),
                ("threads", .int(runner.threads)),
                ("wall_seconds", .double(wallSeconds)),
                ("summary", SweepSummary(table: table).json),
            ], started: started, version: version)
    }

    /// The sidecar of a `regime` CSV: no random input (seed null), the input files, a summary.
    static func regime(
        version: String, argv: [String], inputs: [(String, String)], parameters: JSONValue,
        summary: JSONValue
    ) -> Sidecar {
        Sidecar(
            command: "regime", parameters: parameters, seed: nil, argv: argv,
            extra: [("inputs", .object(inputs.map { ($0.0, .string($0.1)) })), ("summary", summary)], version: version)
    }
}
