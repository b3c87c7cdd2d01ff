import ArgumentParser
import AttnCore
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
            // argument-parser's own errors: --help and --version (exit 0), usage (its 64 is our 2),
            // or an ExitCode (no message).
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

/// Writes `error: message` as one line on stderr.
func printError(_ message: String) {
    printNote("error: " + message.split(whereSeparator: \.isNewline).joined(separator: " "))
}

/// Writes a line on stderr (progress, notes), never on stdout.
func printNote(_ message: String) { FileHandle.standardError.write(Data((message + "\n").utf8)) }

/// Fixed-width number for text summaries.
func fmt(_ x: Double, _ digits: Int = 1) -> String { TextFormat.fixed(x, digits) }
