import ArgumentParser
import AttnKit
import Foundation

/// The `attnbound` command. Subcommands parse, validate, call one library function and write.
public struct Attnbound: ParsableCommand {
    public static let version = AttnVersion.current
    public static let configuration = CommandConfiguration(
        commandName: "attnbound",
        abstract: "Exact, approximate and sparse attention, checked against certified arithmetic.",
        version: version,
        subcommands: [
            SweepCommand.self, DemoCommand.self, AttentionCommand.self, VerifyCommand.self, VerifyMergeCommand.self,
            VectorsCommand.self, PlanCommand.self, ApproxCommand.self, MergeCommand.self, PlotCommand.self,
            RegimeCommand.self, KVReplayCommand.self, LiteCommand.self, DbspCommand.self, PruneCommand.self,
            BenchCommand.self,
        ])
    public init() {}

    /// Runs the CLI and returns the exit code (CONVENTIONS.md): 0 success, 1 check failed,
    /// 2 usage or invalid input, 3 infeasible. Every error is one line on stderr starting with `error: `.
    public static func run(arguments: [String]) -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            return 0
        } catch let error as AttnError {
            printError(error.cliMessage)
            return error.exitCode
        } catch {
            // argument-parser's: --help and --version (exit 0), usage (its 64 is our 2), or an ExitCode (silent).
            let code = exitCode(for: error), text = message(for: error)
            if code == .success {
                print(fullMessage(for: error))
            } else if let line = text.split(whereSeparator: \.isNewline).first.map(String.init) {
                printError(line.hasPrefix("Error: ") ? String(line.dropFirst(7)) : line)
            }
            return code.rawValue == 64 ? 2 : code.rawValue
        }
    }
}

/// Writes `report`, the one way commands write a result: its table as CSV + JSON sidecar at `out` (when
/// both exist), then the JSON object or the text on stdout; then throws its failure (exit code from
/// `AttnError`), so that the outputs of a failed check are still there to read.
func emit(_ report: RunReport, out: String?, json: Bool) throws {
    if let out { try report.writeTable(to: out, argv: CommandLine.arguments) }
    print(json ? report.json.serialized() : report.text.joined(separator: "\n"))
    if !json && !report.pointers.isEmpty { print("see: " + report.pointers.map(flagName).joined(separator: ", ")) }
    if let failure = report.failure { throw failure }
}

/// Checks that an output path's folder exists before any work is done.
func validateOutputPath(_ path: String, flag: String) throws {
    if let problem = AtomicFile.folderProblem(path) { throw ValidationError("\(flag) \(path): \(problem)") }
}

/// The command-line flag of each library parameter: the one place where the library's Swift names meet
/// the CLI's spellings (the library never names a flag). A parameter's flag is its name in kebab case
/// (`pageSize` → `--page-size`) unless listed here.
private let irregularFlags: [Parameter: String] = [
    .B: "--B", .bGrid: "--B", .dConstant: "--C", .hardDConstant: "--hard-C", .epsilon: "--eps",
    .epsilonPower: "--eps-power", .threshold: "--thr", .sampleRows: "--rows", .output: "--out",
    .ranksOutput: "--ranks-out", .topkPages: "--topk", .liteSampleRows: "--sample-rows", .dO: "--do",
]

func flagName(for parameter: Parameter) -> String {
    irregularFlags[parameter] ?? "--"
        + parameter.rawValue.map { $0.isUppercase ? "-" + $0.lowercased() : "\($0)" }.joined()
}

extension AttnError {
    /// The one line the CLI prints: the message, prefixed by the flag at fault.
    var cliMessage: String { parameter.map { "\(flagName(for: $0)): \(message)" } ?? message }
}

/// Writes `error: m` as one line on stderr.
func printError(_ m: String) { printNote("error: " + m.split(whereSeparator: \.isNewline).joined(separator: " ")) }

/// Writes a line on stderr (progress, notes), never on stdout.
func printNote(_ message: String) { FileHandle.standardError.write(Data((message + "\n").utf8)) }
