import ArgumentParser
import AttnCore
import AttnKernels
import Foundation

/// Shared parsing and output for the block-sparse commands.
enum BlockSparseCLI {
    /// Parses a half-open token range "START:END" (0 ≤ START < END).
    static func range(_ text: String, flag: String) throws -> Range<Int> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 0, a < b else {
            throw ValidationError("\(flag) '\(text)': expected START:END with 0 ≤ START < END")
        }
        return a..<b
    }

    /// Parses a threshold: a decimal number or -inf / inf.
    static func threshold(_ text: String, flag: String) throws -> Double {
        switch text.lowercased() {
        case "-inf", "-infinity": return -.infinity
        case "inf", "+inf", "infinity": return .infinity
        default:
            guard let x = Double(text), x.isFinite else { throw ValidationError("\(flag) '\(text)': expected a number, -inf or inf") }
            return x
        }
    }

    /// Writes the CSV and its sidecar (the one schema, `Sidecar`).
    static func write(csvHeader: [String], rows: [[String]], to path: String, command: String,
                      parameters: [(String, JSONValue)], seed: UInt64?) throws {
        try Sidecar(command: command, parameters: parameters, seed: seed, argv: CommandLine.arguments)
            .write(header: csvHeader, rows: rows, to: URL(fileURLWithPath: path))
    }

    static func num(_ x: Double) -> String { CSV.number(x) }
}
