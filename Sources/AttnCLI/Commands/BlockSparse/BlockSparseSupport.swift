import ArgumentParser
import AttnCore
import AttnKernels
import Foundation

/// A half-open token range "START:END" (0 ≤ START < END).
struct TokenRange: ExpressibleByArgument, CustomStringConvertible {
    let range: Range<Int>
    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 0, a < b else { return nil }
        range = a..<b
    }
    var description: String { "\(range.lowerBound):\(range.upperBound)" }
}

/// A skip threshold: a decimal number or -inf / inf (never NaN).
struct Threshold: ExpressibleByArgument, CustomStringConvertible {
    let value: Double
    init?(argument: String) {
        switch argument.lowercased() {
        case "-inf", "-infinity": value = -.infinity
        case "inf", "+inf", "infinity": value = .infinity
        default:
            guard let x = Double(argument), x.isFinite else { return nil }
            value = x
        }
    }
    var description: String { formatShortest(value) }
}

/// Shared output for the block-sparse commands.
enum BlockSparseCLI {
    /// Writes the CSV and its sidecar (the one schema, `Sidecar`).
    static func write(
        csvHeader: [String], rows: [[String]], to path: String, command: String,
        parameters: [(String, JSONValue)], seed: UInt64?
    ) throws {
        try Sidecar(command: command, parameters: parameters, seed: seed, argv: CommandLine.arguments)
            .write(header: csvHeader, rows: rows, to: URL(fileURLWithPath: path))
    }

    static func num(_ x: Double) -> String { CSV.number(x) }
}
