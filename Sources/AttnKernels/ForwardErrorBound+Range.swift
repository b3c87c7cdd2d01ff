import AttnCore
import CVectorMath
import Foundation

/// The terms that make `ForwardErrorBound` hold over the whole finite range (issue 23,
/// Proofs/online-softmax-error.md §1′ and §4): norms that neither overflow nor underflow,
/// the absolute error of products and scales below the normal range, and the test for rows
/// whose scores or sums may leave the working format.
extension ForwardErrorBound {
    /// An upper bound on ‖x‖₂ of `count` finite values, computed as √(Σx_c²) when a = max|x_c| lies in
    /// [2⁻⁵⁰⁰, 2⁵⁰⁰], and as a·√(Σ(x_c/a)²) otherwise, so that no square overflows or underflows harmfully;
    /// +∞ only when ‖x‖₂ exceeds the Double range.
    /// The quotients and the sum each round once (≤ (count + 2)·2⁻⁵³ in all, plus ≤ count·2⁻¹⁰⁷⁴ of
    /// quotients below the normal range against a sum ≥ 1); the pad 10⁻¹⁵·(count + 2) covers both.
    /// Four accumulators, not one: the rounding count per term is the same in any order, and four
    /// dependency chains instead of one made this 4× faster (it runs once per query row: a third of the
    /// time `attention` spent outside the kernel on a [32, 8192, 128] layer).
    @inline(__always) static func norm(count: Int, _ x: (Int) -> Double) -> Double {
        var m = (0.0, 0.0, 0.0, 0.0)
        var c = 0
        while c + 4 <= count {
            m = (max(m.0, abs(x(c))), max(m.1, abs(x(c + 1))), max(m.2, abs(x(c + 2))), max(m.3, abs(x(c + 3))))
            c += 4
        }
        while c < count { m.0 = max(m.0, abs(x(c))); c += 1 }
        let a = max(max(m.0, m.1), max(m.2, m.3))
        guard a > 0 else { return 0 }
        var s = (0.0, 0.0, 0.0, 0.0)
        c = 0
        if a >= 0x1p-500 && a <= 0x1p500 {
            // No square overflows, and squares below the normal range err by ≤ 2⁻¹⁰⁷⁴ each against a sum
            // ≥ a² ≥ 2⁻¹⁰⁰⁰: unscaled, each square and each addition rounds once, as each quotient did.
            while c + 4 <= count {
                let y = (x(c), x(c + 1), x(c + 2), x(c + 3))
                s = (s.0 + y.0 * y.0, s.1 + y.1 * y.1, s.2 + y.2 * y.2, s.3 + y.3 * y.3)
                c += 4
            }
            while c < count { let y = x(c); s.0 += y * y; c += 1 }
            return ((s.0 + s.1) + (s.2 + s.3)).squareRoot() * (1 + 1e-15 * Double(count + 2))
        }
        while c + 4 <= count {
            let y = (x(c) / a, x(c + 1) / a, x(c + 2) / a, x(c + 3) / a)
            s = (s.0 + y.0 * y.0, s.1 + y.1 * y.1, s.2 + y.2 * y.2, s.3 + y.3 * y.3)
            c += 4
        }
        while c < count { let y = x(c) / a; s.0 += y * y; c += 1 }
        return a * ((s.0 + s.1) + (s.2 + s.3)).squareRoot() * (1 + 1e-15 * Double(count + 2))
    }

    /// `norm` of `count` values of a tensor's storage at `x`. Float values lie in [2⁻¹⁴⁹, 2¹²⁸], inside the unscaled
    /// range of `norm`, so their squares (exact in Double: 48 significant bits) are summed directly, in lanes
    /// (`attnbound_sum_squares_f32`): each term still passes through at most `count` additions and the square root
    /// one more rounding, which the same pad covers. Other types take `norm`.
    @inline(__always) static func norm<T: AttnScalar>(_ x: UnsafePointer<T>, count: Int) -> Double {
        guard T.self == Float.self else { return norm(count: count) { Double(x[$0]) } }
        let sum = attnbound_sum_squares_f32(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), count)
        return sum.squareRoot() * (1 + 1e-15 * Double(count + 2))
    }

    /// max |x_c| of `count` values of a tensor's storage at `x` (exact).
    @inline(__always) static func maxMagnitude<T: AttnScalar>(_ x: UnsafePointer<T>, count: Int) -> Double {
        guard T.self == Float.self else {
            var m = 0.0
            for c in 0..<count { m = max(m, abs(Double(x[c]))) }
            return m
        }
        return Double(attnbound_max_abs_f32(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), count))
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
