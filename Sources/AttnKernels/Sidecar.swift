import AttnCore
import Foundation

/// The one machine-readable record of a run: a CSV and its JSON sidecar (same
/// stem, `.json`), as AttnKit.docc/Conventions.md asks of every command that
/// writes a CSV: the version, every parameter, the seed and the machine.
///
/// One schema for every command. The keys, in this order:
/// `tool` ("attnbound <command>"), `version`, `argv`, `csv` (the file name),
/// `parameters` (an object), `seed` (a decimal string, or null when no
/// random input was drawn), `started_utc`, then the command's own keys
/// (`extra`, e.g. a summary or a sweep's shard), and last `machine`
/// (`Sidecar.machine()`: host, OS, CPU, memory and the BLAS library,
/// version and core). It lives in AttnKernels because the machine record
/// includes `BLASInfo`. Checked by `SidecarTests`.
public struct Sidecar: Sendable {
    /// The subcommand, e.g. "lite" or "dbsp plan"; `tool` is "attnbound " + this.
    public var command: String
    public var parameters: JSONValue
    /// The seed of every random input, or nil when the numbers depend on files alone.
    public var seed: UInt64?
    public var argv: [String]
    /// Command-specific keys, written after the common ones.
    public var extra: [(String, JSONValue)]
    public var started: Date
    public var version: String

    public init(
        command: String, parameters: JSONValue, seed: UInt64?, argv: [String] = [],
        extra: [(String, JSONValue)] = [], started: Date = Date(), version: String = AttnVersion.current
    ) {
        self.command = command
        self.parameters = parameters
        self.seed = seed
        self.argv = argv
        self.extra = extra
        self.started = started
        self.version = version
    }

    /// Convenience for parameters given as key–value pairs.
    public init(
        command: String, parameters: [(String, JSONValue)], seed: UInt64?, argv: [String] = [],
        extra: [(String, JSONValue)] = []
    ) {
        self.init(command: command, parameters: .object(parameters), seed: seed, argv: argv, extra: extra)
    }

    /// The sidecar object for a CSV named `csv` (a file name, not a path).
    public func json(csv: String) -> JSONValue {
        .object(
            [
                ("tool", .string("attnbound " + command)),
                ("version", .string(version)),
                ("argv", .array(argv.map { .string($0) })),
                ("csv", .string(csv)),
                ("parameters", parameters),
                ("seed", seed.map { .string(String($0)) } ?? .null),
                ("started_utc", .string(Self.utc(started))),
            ] + extra + [("machine", Self.machine())])
    }

    /// The sidecar's location beside `csv`: same stem, `.json`.
    public static func url(besides csv: URL) -> URL {
        csv.deletingPathExtension().appendingPathExtension("json")
    }

    /// Writes `text` to `csv` and then the sidecar beside it, each by temp file and
    /// rename (AtomicFile), so a failed run leaves neither half-written.
    /// - Returns: the sidecar's URL.
    @discardableResult
    public func write(csv text: String, to csv: URL) throws -> URL {
        let side = Self.url(besides: csv)
        try AtomicFile.write(text, to: csv)
        try AtomicFile.write(json(csv: csv.lastPathComponent).serialized() + "\n", to: side)
        return side
    }

    /// Writes an RFC 4180 CSV of `header` and `rows`, and its sidecar.
    @discardableResult
    public func write(header: [String], rows: [[String]], to csv: URL) throws -> URL {
        try write(csv: CSV.row(header) + rows.map(CSV.row).joined(), to: csv)
    }

    /// ISO 8601 UTC, second resolution.
    public static func utc(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// Host, OS, CPU model and count, memory, and the BLAS library, version and
    /// core in use (`blas`, `BLASInfo.json`): enough to tell two machines apart.
    public static func machine() -> JSONValue {
        let info = ProcessInfo.processInfo
        var cpu = "unknown"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
            let colon = line.firstIndex(of: ":")
        {
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

extension RunReport {
    /// Writes the table, if the report has one, as CSV with its JSON sidecar at `path` (the one way
    /// commands write a table: `emit`'s `--out`, and second tables such as `dbsp plan --ranks-out`).
    public func writeTable(to path: String, argv: [String]) throws {
        guard let table else { return }
        try Sidecar(command: command, parameters: parameters, seed: seed, argv: argv, extra: sidecarExtra)
            .write(csv: table.csv, to: URL(fileURLWithPath: path))
    }
}
