import ArgumentParser
import AttnCore
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

    /// Writes the CSV atomically and a JSON sidecar (same stem, .json) with
    /// the version, parameters, seed and machine (AttnKit.docc/Conventions.md).
    static func write(csvHeader: [String], rows: [[String]], to path: String, command: String,
                      parameters: [(String, JSONValue)], seed: UInt64?) throws {
        var text = CSV.row(csvHeader)
        for r in rows { text += CSV.row(r) }
        let url = URL(fileURLWithPath: path)
        try AtomicFile.write(text, to: url)
        let info = ProcessInfo.processInfo
        let sidecar = JSONValue.object([
            ("command", .string(command)), ("version", .string(Attnbound.version)),
            ("parameters", .object(parameters)),
            ("seed", seed.map { .string(String($0)) } ?? .null),
            ("machine", .object([("host", .string(info.hostName)), ("cores", .int(info.activeProcessorCount)),
                                 ("os", .string(info.operatingSystemVersionString))])),
        ])
        let json = url.deletingPathExtension().appendingPathExtension("json")
        try AtomicFile.write(sidecar.serialized() + "\n", to: json)
    }

    static func num(_ x: Double) -> String { CSV.number(x) }
}
