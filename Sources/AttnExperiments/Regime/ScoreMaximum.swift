import AttnCore
import AttnKernels
import AttnPoly
import Foundation

/// The largest unscaled score max_{i,j} |q_i·k_j| of one head, with a proved
/// bound on the error of the computed value.
///
/// Computed blockwise with a Double gemm (a block of at most `blockRows`
/// query rows against all keys, so the workspace is `blockRows·n_k` doubles
/// whatever n), then a maximum of absolute values, which is exact.
///
/// Error bound (Proofs/regime-score-maximum.md): a conventional gemm forms
/// each entry as a sum of the d products in some order, with or without FMA,
/// so |fl(q·k) − q·k| ≤ γ_d·Σ_c|q_c k_c| + d·2⁻¹⁰⁷⁴ ≤ γ_d·‖q‖‖k‖ + d·2⁻¹⁰⁷⁴
/// (Cauchy–Schwarz on |q|, |k|; the second term covers underflow). Since
/// |max a − max b| ≤ max|a − b|, the computed maximum m̃ satisfies
/// |m̃ − m| ≤ γ_d·N + d·2⁻¹⁰⁷⁴, with N ≥ max‖q_i‖·max‖k_j‖ from
/// `ScoreRadius.measured` (rounded up). Test: `ScoreMaximumTests`
/// (the bound holds against exact rational scores and fails when halved).
public struct ScoreMaximum: Sendable, Equatable {
    /// The computed max |q_i·k_j| (no scale).
    public let value: Double
    /// A proved bound on |value − true maximum|.
    public let errorBound: Double
    /// Where the computed maximum is (query row, key row).
    public let row: Int
    public let col: Int
    /// N: an upper bound on max_i‖q_i‖₂·max_j‖k_j‖₂ (the Cauchy–Schwarz radius at scale 1).
    public let normProduct: Double

    /// Query rows per gemm block (the workspace is `blockRows·n_k` doubles).
    static let blockRows = 256

    /// - Parameters: q: n_q × d row-major, k: n_k × d row-major.
    /// - Precondition: finite entries, n_q, n_k ≥ 1, d ≥ 1.
    public static func compute(
        q: UnsafeBufferPointer<Double>, k: UnsafeBufferPointer<Double>,
        nq: Int, nk: Int, d: Int
    ) -> ScoreMaximum {
        precondition(nq >= 1 && nk >= 1 && d >= 1 && q.count >= nq * d && k.count >= nk * d)
        let normProduct = ScoreRadius.measured(q: q, k: k, nq: nq, nk: nk, d: d, scale: 1)
        let rowsPerBlock = min(blockRows, nq)
        var scores = [Double](repeating: 0, count: rowsPerBlock * nk)
        var best = 0.0, bestRow = 0, bestCol = 0
        scores.withUnsafeMutableBufferPointer { c in
            var start = 0
            while start < nq {
                let m = min(rowsPerBlock, nq - start)
                // C (m × n_k) = Q[start..<start+m] · Kᵀ
                Double.gemm(
                    transA: false, transB: true, m: m, n: nk, k: d, alpha: 1,
                    a: q.baseAddress! + start * d, lda: d, b: k.baseAddress!, ldb: d,
                    beta: 0, c: c.baseAddress!, ldc: nk)
                for i in 0..<m {
                    for j in 0..<nk where abs(c[i * nk + j]) > best {
                        best = abs(c[i * nk + j]); bestRow = start + i; bestCol = j
                    }
                }
                start += m
            }
        }
        return ScoreMaximum(
            value: best, errorBound: errorBound(normProduct: normProduct, d: d),
            row: bestRow, col: bestCol, normProduct: normProduct)
    }

    /// γ_d·N + d·2⁻¹⁰⁷⁴, rounded up (the proof's Lemma 1 and 2).
    static func errorBound(normProduct N: Double, d: Int) -> Double {
        let gamma = Rounding.gamma(d, unitRoundoff: Double.unitRoundoff)  // rounded up; +∞ when d·u ≥ 1
        return ((gamma * N).nextUp + Double(d) * 0x1p-1074).nextUp  // mutation-check: regime-score
    }

    /// The maximum of |s·q_i·k_j| for scale value ŝ (the nearest double to s),
    /// and a bound on its error against the exact s: `(value, errorBound)`.
    ///
    /// |fl(ŝ·m̃) − s·m| ≤ u·ŝm̃ + τ/2 + |ŝ − s|·m̃ + s·|m̃ − m|; with |ŝ − s| ≤ σ·s + τ/2, σ = 2u
    /// (`Scale.relativeError`, Proofs/scale-rounding.md, subnormal ŝ included) and s ≤ s↑ =
    /// `Scale.upperBound`, the total is ≤ u·ŝm̃ + (σ·s↑ + τ/2)·m̃ + s↑·E + τ/2, rounded up (proof, Lemma 3).
    public func scaled(by s: Double) -> (value: Double, errorBound: Double) {
        let u = Double.unitRoundoff, sigma = Scale.relativeError(unitRoundoff: u), tau = 0x1p-1074
        let sUp = Scale.upperBound(value: s, unitRoundoff: u, leastNonzeroMagnitude: tau)
        // Five roundings, each ≤ (1 + u) relative or 2⁻¹⁰⁷⁵ absolute if it underflows: 1 + 8u and 4·2⁻¹⁰⁷⁴ cover them.
        let bound = (u * s * value + (sigma * sUp + tau / 2) * value + sUp * errorBound) * (1 + 8 * u) + 4 * tau
        return (s * value, bound.nextUp)
    }
}
