import AttnCore
import Foundation

/// One CSV row: one measured (point, method) pair. Fields that do not apply
/// to an experiment are empty in the CSV.
public struct SweepRow: Sendable, Equatable {
    public var method: String
    /// Polynomial degree g (or nil when no degree ≤ the cap suffices / not applicable).
    public var degree: Int?
    /// Rank r (C(g+d, d) for the polynomial method, the ε-rank for erank-vs-b).
    /// A Double so that astronomically large ranks still print (exact below 2⁵³).
    public var rank: Double?
    /// log_n(n·r·d): 2 means no gain over exact attention.
    public var exponent: Double?
    /// Rows of the output compared against the exact kernel.
    public var rows: Int?
    public var error: Double?
    public var bound: Double?
    /// hard-instance: 1 if the smallest output row is the planted query's.
    public var revealed: Bool?
    /// hard-instance: (smallest output among other rows) − (planted row's output).
    public var margin: Double?
    public var seconds: Double?

    public init(
        method: String, degree: Int? = nil, rank: Double? = nil, exponent: Double? = nil, rows: Int? = nil,
        error: Double? = nil, bound: Double? = nil, revealed: Bool? = nil, margin: Double? = nil
    ) {
        self.method = method; self.degree = degree; self.rank = rank; self.exponent = exponent; self.rows = rows
        self.error = error; self.bound = bound; self.revealed = revealed; self.margin = margin
    }
}

/// The CSV layout of a sweep (AttnKit.docc/Conventions.md, "CSV"): fixed columns, one
/// header row, numbers in shortest round-trip form.
///
/// `c` and `measured_error` (issue 21's names for the gradient sweep) repeat `B_over_sqrt_ln_n` and
/// `error` in every row. They are appended rather than renamed so that scripts reading the older
/// names, and CSVs written before they existed (`legacyColumns`, still read by `SweepTable`), keep
/// working; positions of the older columns are unchanged.
public enum SweepCSV {
    /// The layout before `c` and `measured_error` were added: still accepted when reading.
    public static let legacyColumns = [
        "point", "experiment", "distribution", "n", "d", "B", "B_over_sqrt_ln_n", "epsilon", "method",
        "degree", "rank", "exponent", "trial", "seed", "rows", "error", "bound", "revealed", "margin",
    ]
    public static let columns = legacyColumns + ["c", "measured_error"]

    public static func header(timing: Bool) -> String {
        CSV.row(columns + (timing ? ["seconds"] : []))
    }

    /// The CSV line of `row` measured at `point`, with its line end.
    public static func line(point p: SweepPoint, epsilon: Double, row: SweepRow, timing: Bool) -> String {
        func num(_ x: Double?) -> String { x.map(CSV.number) ?? "" }
        var fields = [
            String(p.index), p.experiment.rawValue, p.distribution, String(p.n), String(p.d),
            CSV.number(p.B), CSV.number(p.c), CSV.number(epsilon), row.method,
            row.degree.map(String.init) ?? "", num(row.rank), num(row.exponent), String(p.trial), String(p.seed),
            row.rows.map(String.init) ?? "", num(row.error), num(row.bound),
            row.revealed.map { $0 ? "1" : "0" } ?? "", num(row.margin), CSV.number(p.c), num(row.error),
        ]
        if timing { fields.append(num(row.seconds)) }
        return CSV.row(fields)
    }
}
