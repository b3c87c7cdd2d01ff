import AttnCore
import Foundation

/// A sweep CSV read back: what `plot`, `merge` and the summaries consume.
public struct SweepTable: Sendable {
    /// One row, typed. Empty CSV fields are nil.
    public struct Record: Sendable {
        public let point: Int
        public let experiment: Experiment
        public let distribution: String
        public let n: Int
        public let d: Int
        public let B: Double
        public let c: Double
        public let epsilon: Double
        public let method: String
        public let degree: Int?
        public let rank: Double?
        public let exponent: Double?
        public let trial: Int
        /// Rows compared (error-vs-b, hard-instance, grad-vs-b: n), or gradient calls m (grad-reduction).
        public let rows: Int?
        public let error: Double?
        public let bound: Double?
        public let revealed: Bool?
        public let margin: Double?
    }

    public let header: String
    public let records: [Record]
    /// The data lines exactly as read (with their LF), parallel to `records`.
    public let lines: [String]

    static let empty = SweepTable(header: "", records: [], lines: [])

    private init(header: String, records: [Record], lines: [String]) {
        self.header = header; self.records = records; self.lines = lines
    }

    /// Parses a sweep CSV.
    /// - Throws: `AttnError.usage` (naming `source` and the line) on any malformed line.
    public init(csv text: String, source: String = "CSV") throws {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" {
            lines.removeLast()
        } else if !text.isEmpty {
            throw AttnError.usage("\(source): last line is incomplete (a torn write?)")
        }
        guard let head = lines.first else {
            throw AttnError.usage("\(source): empty file, expected a sweep CSV header")
        }
        let columns = CSV.parseRow(head[...])
        // The older layout (`SweepCSV.legacyColumns`, then maybe `seconds`) is read too: every field
        // read below sits at the same position in both.
        guard columns.starts(with: SweepCSV.legacyColumns) else {
            throw AttnError.usage(
                "\(source): not a sweep CSV (header must start with \(SweepCSV.columns.prefix(3).joined(separator: ","))…)"
            )
        }
        var recs: [Record] = []
        for (ln, line) in lines.enumerated().dropFirst() {
            let f = CSV.parseRow(line[...])
            func bad(_ what: String) -> AttnError { AttnError.usage("\(source):\(ln + 1): \(what)") }
            guard f.count == columns.count else { throw bad("expected \(columns.count) fields, found \(f.count)") }
            func int(_ i: Int) throws -> Int {
                guard let x = Int(f[i]) else { throw bad("\(columns[i]) '\(f[i])' is not an integer") }; return x
            }
            func num(_ i: Int) throws -> Double {
                guard let x = Double(f[i]) else { throw bad("\(columns[i]) '\(f[i])' is not a number") }; return x
            }
            func optInt(_ i: Int) throws -> Int? { f[i].isEmpty ? nil : try int(i) }
            func optNum(_ i: Int) throws -> Double? { f[i].isEmpty ? nil : try num(i) }
            guard let e = Experiment(rawValue: f[1]) else { throw bad("unknown experiment '\(f[1])'") }
            recs.append(
                Record(
                    point: try int(0), experiment: e, distribution: f[2], n: try int(3), d: try int(4),
                    B: try num(5), c: try num(6), epsilon: try num(7), method: f[8],
                    degree: try optInt(9), rank: try optNum(10), exponent: try optNum(11),
                    trial: try int(12), rows: try optInt(14), error: try optNum(15), bound: try optNum(16),
                    revealed: try optInt(17).map { $0 != 0 }, margin: try optNum(18)))
        }
        self.init(header: head + "\n", records: recs, lines: lines.dropFirst().map { $0 + "\n" })
    }

    /// The experiments present, in canonical order.
    public var experiments: [Experiment] { Array(Set(records.map(\.experiment))).sorted() }
}
