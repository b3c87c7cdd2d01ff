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
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            let code = exitCode(for: error)
            if code == .success {  // --help, --version
                print(fullMessage(for: error))
                return 0
            }
            let message = self.message(for: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            printError(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)
            return code == .validationFailure || code.rawValue == 64 ? 2 : code.rawValue
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
