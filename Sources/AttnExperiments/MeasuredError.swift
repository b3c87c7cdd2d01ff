import AttnCore
import AttnPoly
import Foundation

/// Which output rows an approximation's error is measured on.
public enum ErrorRows: Sendable, Equatable, LosslessStringConvertible {
    /// Every row (the exact kernel over all n_q rows: O(n_q·n_k·d)).
    case all
    /// `k` rows per head, a seeded sample (all rows when k ≥ n_q): O(k·n_k·d),
    /// so an n^{1+o(1)} method stays n^{1+o(1)} from the CLI.
    case sample(Int)

    /// Rows sampled per head when the caller does not say: as the sweep (64).
    public static let defaultSample = 64

    /// The default: all rows while n_q·n_k ≤ 2048² (cheap), else a sample of `defaultSample`.
    public static func automatic(queries nq: Int, keys nk: Int) -> ErrorRows {
        nq * nk <= 2048 * 2048 ? .all : .sample(defaultSample)
    }

    /// "all" or a positive count.
    public init?(parsing text: String) {
        if text == "all" { self = .all; return }
        guard let k = Int(text), k >= 1 else { return nil }
        self = .sample(k)
    }

    /// As `init(parsing:)` (LosslessStringConvertible).
    public init?(_ description: String) { self.init(parsing: description) }

    public var description: String {
        switch self {
        case .all: "all"
        case .sample(let k): String(k)
        }
    }
}

/// The measured error max|T − Att| of an approximation T, on all rows or on
/// sampled rows (exact rows by `ExactRows`, Float64, row max subtracted).
public enum MeasuredError {
    /// - Returns: the max abs error over the measured rows, and those rows
    ///   (per head, ascending; the same indices for every head), or nil when all rows were measured.
    public static func maxAbsError(
        approximation t: Tensor<Double>, q: Tensor<Double>, k: Tensor<Double>,
        v: Tensor<Double>, scale: Scale, rows: ErrorRows,
        seed: UInt64
    ) throws -> (error: Double, rows: [Int]?) {
        if case .sample(let count) = rows, count < q.rows {
            var rng = Xoshiro256StarStar(seed: seed ^ 0x5EED_E770)
            let chosen = ExactRows.sample(count, of: q.rows, using: &rng)
            let s = scale.value(d: q.cols)
            var worst = 0.0
            for h in 0..<q.heads {
                let (qh, kh, vh) = (head(q, h), head(k, h), head(v, h))
                for i in chosen {
                    let exact = ExactRows.row(i, q: qh, k: kh, v: vh, scale: s)
                    for c in 0..<v.cols { worst = max(worst, abs(t[h, i, c] - exact[c])) }
                }
            }
            return (worst, chosen)
        }
        let exact = try Approximation.exact(q: q, k: k, v: v, scale: scale)
        return (ErrorMetrics.maxAbsDiff(t, exact), nil)
    }

    static func head(_ t: Tensor<Double>, _ h: Int) -> Tensor<Double> {
        let n = t.rows * t.cols
        return Tensor(rows: t.rows, cols: t.cols, storage: Array(t.storage[h * n..<(h + 1) * n]))
    }
}
