import AttnCore
import Foundation

/// The terms that make `ForwardErrorBound` hold over the whole finite range (issue 23,
/// Proofs/online-softmax-error.md §1′ and §4): norms that neither overflow nor underflow,
/// the absolute error of products and scales below the normal range, and the test for rows
/// whose scores or sums may leave the working format.
extension ForwardErrorBound {
    /// An upper bound on ‖x‖₂ of `count` finite values, computed as a·√(Σ(x_c/a)²) with a = max|x_c|,
    /// so that no square overflows or underflows; +∞ only when ‖x‖₂ exceeds the Double range.
    /// The quotients and the sum each round once (≤ (count + 2)·2⁻⁵³ in all, plus ≤ count·2⁻¹⁰⁷⁴ of
    /// quotients below the normal range against a sum ≥ 1); the pad 10⁻¹⁵·(count + 2) covers both.
    static func norm(count: Int, _ x: (Int) -> Double) -> Double {
        var a = 0.0
        for c in 0..<count { a = max(a, abs(x(c))) }
        guard a > 0 else { return 0 }
        var s2 = 0.0
        for c in 0..<count { let y = x(c) / a; s2 += y * y }
        return a * s2.squareRoot() * (1 + 1e-15 * Double(count + 2))
    }

    /// Absolute error of one score that the relative model misses: each product and partial sum whose
    /// result is below the normal range errs by up to τ/2 absolutely (fl(x) = x(1 + ε) + η, |η| ≤ τ/2).
    /// Prescaled (fused kernel): the d products fl(ŝ·q_c) add Σ_c |k_c|·τ/2 ≤ √d·‖k‖·τ/2; the d products
    /// and additions of the dot product add (d + 1)·τ/2; a scale applied after the dot product (BLAS α,
    /// the reference) multiplies those by ŝ and adds τ/2. All of it passes through ≤ d + 2 later roundings.
    /// Proofs/online-softmax-error.md §1′.
    static func scoreUnderflow(
        d: Int, keyNorm: Double, scaleUpper s: Double, leastNonzero tau: Double, unitRoundoff u: Double
    )
        -> Double
    {
        let terms = Double(d).squareRoot() * keyNorm + Double(d + 2) * max(1, s)
        return tau / 2 * terms * (1 + Rounding.gamma(d + 2, unitRoundoff: u))  // mutation-check: score-underflow
    }

    /// True when a row's scores or sums may leave the finite range of the format (greatest finite F):
    /// the unscaled dot product (BLAS α, the reference), the prescaled query ŝ·q, a score, or the
    /// numerator O = Σ p_j·v_j (each weight ≤ 1 + η; `normalised`: the weights sum to about 1 first,
    /// as the reference's do). Otherwise nothing overflows, and Ô is finite (proof §4).
    static func mayOverflow(
        queryNorm qn: Double, keyNorm kn: Double, scaleUpper s: Double, scoreBound x: Double,
        keys n: Int, valueMax vMax: Double, normalised: Bool, greatestFinite F: Double
    ) -> Bool {
        let dot = qn == 0 || kn == 0 ? 0 : qn * kn
        let sum = (normalised ? 1 : Double(n)) * vMax
        return !(2 * dot < F && 2 * s * qn < F && 2 * x < F && 2 * sum < F)
    }
}
