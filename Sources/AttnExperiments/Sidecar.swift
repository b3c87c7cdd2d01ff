import AttnCore
import AttnKernels
import Foundation

/// The JSON sidecar of a sweep CSV (AttnKit.docc/Conventions.md): version, every
/// parameter, the seed, the machine, timings and a summary of the results.
/// Timings live here, not in the CSV, so the CSV stays byte-reproducible.
public enum Sidecar {
    static func sweep(version: String, argv: [String], runner: SweepRunner, started: Date, wallSeconds: Double,
                      pointsTotal: Int, pointsInShard: Int, measured: Int, resumed: Int, csvText: String) -> JSONValue {
        let table = (try? SweepTable(csv: csvText)) ?? SweepTable.empty
        return .object([
            ("tool", "attnbound sweep"),
            ("version", .string(version)),
            ("argv", .array(argv.map { .string($0) })),
            ("csv", .string(runner.csvURL.lastPathComponent)),
            ("fingerprint", .string(runner.fingerprint)),
            ("backend", .string(runner.backend.name)),
            ("seed", .string(String(runner.configuration.seed))),
            ("parameters", runner.configuration.json),
            ("shard", .object([("index", .int(runner.shard.index)), ("count", .int(runner.shard.count))])),
            ("points_total", .int(pointsTotal)),
            ("points_in_shard", .int(pointsInShard)),
            ("points_measured", .int(measured)),
            ("points_resumed", .int(resumed)),
            ("threads", .int(runner.threads)),
            ("started_utc", .string(utc(started))),
            ("wall_seconds", .double(wallSeconds)),
            ("machine", machine()),
            ("summary", SweepSummary(table: table).json),
        ])
    }

    /// The sidecar of a `regime` CSV: version, argv, input files, parameters, machine, summary.
    static func regime(version: String, argv: [String], csv: String, inputs: [(String, String)],
                       parameters: JSONValue, summary: JSONValue) -> JSONValue {
        .object([
            ("tool", "attnbound regime"),
            ("version", .string(version)),
            ("argv", .array(argv.map { .string($0) })),
            ("csv", .string(csv)),
            ("inputs", .object(inputs.map { ($0.0, .string($0.1)) })),
            ("parameters", parameters),
            ("seed", .null),  // no random input: the numbers depend on the files alone
            ("started_utc", .string(utc(Date()))),
            ("machine", machine()),
            ("summary", summary),
        ])
    }

    /// ISO 8601 UTC, second resolution.
    static func utc(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// Host, OS, CPU model and count, memory, and the BLAS library, version and
    /// core in use (`blas`): enough to tell two machines apart.
    public static func machine() -> JSONValue {
        let info = ProcessInfo.processInfo
        var cpu = "unknown"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            cpu = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        #if arch(x86_64)
        let arch = "x86_64"
        #elseif arch(arm64)
        let arch = "arm64"
        #else
        let arch = "other"
        #endif
        return .object([
            ("hostname", .string(info.hostName)),
            ("os", .string(info.operatingSystemVersionString)),
            ("arch", .string(arch)),
            ("cpu", .string(cpu)),
            ("cpus", .int(info.activeProcessorCount)),
            ("memory_bytes", .int(Int(clamping: info.physicalMemory))),
            ("blas", BLASInfo.current.json),
        ])
    }
}
