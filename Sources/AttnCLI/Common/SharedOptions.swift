import ArgumentParser
import AttnCore
import AttnKernels
import Foundation

/// `--threads`, validated once for every command that runs workers.
struct ThreadsOption: ParsableArguments {
    @Option(help: "Worker threads (default: every active core).") var threads: Int?
    /// The count to use: the flag's, or every active core.
    var count: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    func validate() throws {
        if let t = threads, !(1...1024).contains(t) { throw ValidationError("--threads must be in 1...1024") }
    }
}

/// `--seed`, for commands whose random inputs default to seed 1.
struct SeedOption: ParsableArguments {
    @Option(help: "Seed of every random input (printed and recorded).") var seed: UInt64 = 1
}

struct JSONOption: ParsableArguments {
    @Flag(help: "Print one JSON object on one line instead of text.") var json = false
}

/// The output path, `--out` / `-o` (CONVENTIONS.md, "Options"), with the former spellings `--output`
/// and `--csv` accepted, hidden, for one version. Its folder is checked before any work is done.
struct OutputOption: ParsableArguments {
    @Option(name: [.customLong("out"), .short], help: "Output file (written to a temp file, then renamed).")
    var out: String?
    @Option(name: [.customLong("output"), .customLong("csv")], help: .hidden) var legacy: String?
    var path: String? { out ?? legacy }

    /// The path, for a command that always writes.
    func required() throws -> String {
        guard let path else { throw ValidationError("missing --out") }
        return path
    }

    func validate() throws {
        if out != nil && legacy != nil { throw ValidationError("give --out or its former spelling, not both") }
        if let path { try validateOutputPath(path, flag: "--out") }
    }
}

/// Writes `report`, the one way commands write a result: its table as CSV + JSON sidecar at `out` (when
/// both exist), then the JSON object or the text on stdout; then throws its failure (exit code from
/// `AttnError`), so that the outputs of a failed check are still there to read.
func emit(_ report: RunReport, out: String?, json: Bool) throws {
    if let out, let table = report.table {
        try Sidecar(
            command: report.command, parameters: report.parameters, seed: report.seed, argv: CommandLine.arguments,
            extra: report.sidecarExtra
        ).write(csv: table.csv, to: URL(fileURLWithPath: out))
    }
    print(json ? report.json.serialized() : report.text.joined(separator: "\n"))
    if let failure = report.failure { throw failure }
}

/// `--out` or a command's own former spelling `legacyFlag`, for commands that declare both themselves.
func resolvedOutput(_ out: String?, legacy: String?, legacyFlag: String) throws -> String? {
    if out != nil && legacy != nil { throw ValidationError("give --out or \(legacyFlag), not both") }
    return out ?? legacy
}
