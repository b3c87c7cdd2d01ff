import AttnCore
import AttnKernels
import Foundation

/// A rank-r approximation of one head's A = exp(s·QKᵀ), in factored form:
///
///   Ã_ij = exp(a_i + b_j) · Σ_{c<r} L_ic·R_jc,
///
/// with per-row log-scales a (queries) and b (keys) so that huge or tiny
/// entries of A never overflow. Every equal-rank method (poly, SVD,
/// Performer, Nyström) produces one of these; attention and the error
/// reports are computed from it the same way for all.
public struct LowRankFactors: Sendable {
    public let rows: Int
    public let keys: Int
    public let rank: Int
    /// n_q × r, row-major.
    public let left: [Double]
    /// n_k × r, row-major.
    public let right: [Double]
    public let leftLogScale: [Double]
    public let rightLogScale: [Double]

    public init(
        rows: Int, keys: Int, rank: Int, left: [Double], right: [Double],
        leftLogScale: [Double]? = nil, rightLogScale: [Double]? = nil
    ) {
        precondition(left.count == rows * rank && right.count == keys * rank)
        self.rows = rows
        self.keys = keys
        self.rank = rank
        self.left = left
        self.right = right
        self.leftLogScale = leftLogScale ?? [Double](repeating: 0, count: rows)
        self.rightLogScale = rightLogScale ?? [Double](repeating: 0, count: keys)
    }

    /// T = D̃⁻¹ÃV (n_q × d_v, row-major) and D̃ scaled by e^{−a_i − max b}.
    /// The left scale cancels in D̃⁻¹Ã; the right scale is applied relative
    /// to its maximum, so nothing overflows.
    public func attention(values v: [Double], valueCols dv: Int) -> (output: [Double], scaledDenominators: [Double]) {
        let w = dv + 1
        let bmax = rightLogScale.max() ?? 0
        var weighted = [Double](repeating: 0, count: keys * w)
        for j in 0..<keys {
            let f = Foundation.exp(rightLogScale[j] - bmax)
            for c in 0..<dv { weighted[j * w + c] = f * v[j * dv + c] }
            weighted[j * w + dv] = f
        }
        // W = Rᵀ·[V|1]·diag-scaled (r × w), Y = L·W (n_q × w).
        var W = [Double](repeating: 0, count: max(1, rank * w))
        var Y = [Double](repeating: 0, count: rows * w)
        if rank > 0 && keys > 0 {
            Double.gemm(
                transA: true, transB: false, m: rank, n: w, k: keys, alpha: 1, a: right, lda: rank,
                b: weighted, ldb: w, beta: 0, c: &W, ldc: w)
            Double.gemm(
                transA: false, transB: false, m: rows, n: w, k: rank, alpha: 1, a: left, lda: rank,
                b: W, ldb: w, beta: 0, c: &Y, ldc: w)
        }
        var out = [Double](repeating: 0, count: rows * dv), den = [Double](repeating: 0, count: rows)
        for i in 0..<rows {
            den[i] = Y[i * w + dv]
            for c in 0..<dv { out[i * dv + c] = Y[i * w + c] / den[i] }
        }
        return (out, den)
    }

    /// max_ij |Ã_ij − A_ij| / A_ij against the exact scores x_ij = s⟨q_i, k_j⟩
    /// (n_q × n_k, row-major), computed as |e^{a_i + b_j − x_ij}·(LRᵀ)_ij − 1|.
    public func maxRelativeEntryError(scores x: [Double]) -> Double {
        precondition(x.count == rows * keys)
        var P = [Double](repeating: 0, count: rows * keys)
        if rank > 0 {
            Double.gemm(
                transA: false, transB: true, m: rows, n: keys, k: rank, alpha: 1, a: left, lda: rank,
                b: right, ldb: rank, beta: 0, c: &P, ldc: keys)
        }
        var worst = 0.0
        for i in 0..<rows {
            for j in 0..<keys {
                let e = abs(Foundation.exp(leftLogScale[i] + rightLogScale[j] - x[i * keys + j]) * P[i * keys + j] - 1)
                if e.isNaN { return .nan }
                worst = max(worst, e)
            }
        }
        return worst
    }
}

/// The raw scores s·QKᵀ of one head: `ReferenceAttention.scores`.
public func exactScores(q: [Double], k: [Double], nq: Int, nk: Int, d: Int, scale s: Double) -> [Double] {
    ReferenceAttention.scores(q: q, k: k, nq: nq, nk: nk, d: d, scale: s)
}
