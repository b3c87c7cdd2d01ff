import AttnCore
import Foundation

/// The a-priori bound on max|T − Att(Q,K,V)| of the polynomial method, per
/// query row, for one head.
///
/// With ε the certified relative error of the stored polynomial P̂ on
/// [−R, R] (`ExpPolynomial.certifiedRelativeError`), every score in [−R, R],
/// range_c = max_j v_jc − min_j v_jc, R_i = s·‖q_i‖₂·max_j‖k_j‖₂ and
/// P̄(y) = Σ_t |ĉ_t| yᵗ:
///
///   approximation   ε/(2 − ε²) · max_c range_c                (≤ 2ε/(2−ε²)·max|V|; §4's sharp lemma)
///   rounding        2η_i/(1 − η_i)·max|V|·(1 + u) + 2u·max|V|,
///                   η_i = γ_m·P̄(R_i)·e^{R}/(1 − ε)   (e^{R_i} ≤ e^R),
///                   m = 10g + 12 + n_k + chunks + r
///   scale           (e^{2.0002·c_s·R} − 1)·max|V|, c_s = Scale.relativeError (2⁻⁵²: s held as a double)
///
/// u is the unit roundoff of the working precision, γ_m = m·u/(1 − m·u).
/// The bound is +∞ when ε ≥ 1 or η_i ≥ 1 (nothing can be promised).
/// Proof: Proofs/polynomial-method-error.md, §3–5.
/// Test: `AttnPolyTests.AprioriBoundTests` (never violated against the reference).
public enum PolyErrorBound {
    /// The pieces of one head's bound.
    public struct Head: Sendable, Equatable {
        /// ε/(2 − ε²)·max_c range_c.
        public let approximation: Double
        /// max_i of the rounding term.
        public let rounding: Double
        /// max_i of the whole bound (approximation + rounding_i + scale term).
        public let total: Double
        /// Per-row bounds.
        public let rows: [Double]
    }

    /// The approximation part alone, before any data is seen: for Ã with
    /// entrywise relative error ≤ ε (every score in [−R, R]) and values in
    /// [−maxAbsV, maxAbsV], max|T − Att| ≤ ε/(2 − ε²)·range ≤ 2ε/(2 − ε²)·maxAbsV
    /// in exact arithmetic (+∞ for ε ≥ 1). Rounded up. Proof §4 (sharp weight lemma).
    public static func approximation(epsilon eps: Double, maxAbsV: Double) -> Double {
        (factor(eps) * OutwardInterval(exactly: 2) * OutwardInterval(exactly: maxAbsV)).hi
    }

    /// ε/(2 − ε²) as an outward interval (+∞ for ε ≥ 1): the sharp form of §4,
    /// (√ρ − 1)/(√ρ + 1) with ρ = (1 + ε)/(1 − ε), bounded above.
    static func factor(_ eps: Double) -> OutwardInterval {
        guard eps < 1 else { return OutwardInterval(exactly: .infinity) }
        let e = OutwardInterval(0, eps)
        return e / (OutwardInterval(exactly: 2) - e * e)
    }

    /// Bound for one head (row-major inputs of that head).
    /// - Parameters:
    ///   - chunks: the number of key chunks whose partial sums are added.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func head<T: AttnScalar>(q: UnsafeBufferPointer<T>, k: UnsafeBufferPointer<T>,
                                           v: UnsafeBufferPointer<T>, nq: Int, nk: Int, d: Int, dv: Int,
                                           scale s: Double, polynomial p: ExpPolynomial, chunks: Int,
                                           unitRoundoff u: Double) -> Head {
        let eps = p.certifiedRelativeError
        var maxV = 0.0, maxRange = 0.0
        for c in 0..<dv {
            var lo = Double.infinity, hi = -Double.infinity
            for j in 0..<nk {
                let x = Double(v[j * dv + c])
                lo = min(lo, x); hi = max(hi, x)
            }
            if nk > 0 {
                maxRange = max(maxRange, (hi - lo).nextUp)
                maxV = max(maxV, max(abs(lo), abs(hi)))
            }
        }
        var approximation = Double.infinity
        if eps < 1 { approximation = (factor(eps) * OutwardInterval(exactly: maxRange)).hi }  // mutation-check: poly-lemma
        let kMax = ScoreRadius.maxRowNorm(k, rows: nk, cols: d)
        let m = Double(10 * p.degree + 12 + nk + chunks) + PolyRank.rankAsDouble(d: d, degree: p.degree)
        let gamma = Rounding.gamma(m, unitRoundoff: u)
        // |ŝ − s*| ≤ c_s·s* (Scale.relativeError): every score moves by ≤ c_s·R(1 + 10⁻⁴), every weight ratio by e^{2·that}.
        let cs = Scale.relativeError(unitRoundoff: 0x1p-53)
        let scaleTerm = (CertifiedElementary.expUp(2 * cs * 1.0001 * p.radius) - 1) * maxV * (1 + 1e-15)
        // e^{R_i} ≤ e^R for every row (R_i ≤ R): one MPFR exp per head.
        let expR = CertifiedElementary.expUp(p.radius)
        var rows = [Double](repeating: 0, count: nq)
        var worstRounding = 0.0, worst = 0.0
        for i in 0..<nq {
            var q2 = 0.0
            for c in 0..<d { let x = Double(q[i * d + c]); q2 += x * x }
            let Ri = min(p.radius, s * q2.squareRoot() * (1 + 1e-15 * Double(d + 2)) * kMax)
            let eta = gamma * p.absoluteMajorant(at: Ri) * expR / (1 - eps) * (1 + 1e-15)
            let rounding: Double
            if eps < 1, eta < 1 {
                rounding = (2 * eta / (1 - eta) * maxV * (1 + u) + 2 * u * maxV) * (1 + 1e-14)
            } else {
                rounding = .infinity
            }
            rows[i] = (approximation + rounding + scaleTerm) * (1 + 1e-15)
            worstRounding = max(worstRounding, rounding)
            worst = max(worst, rows[i])
        }
        return Head(approximation: approximation, rounding: worstRounding, total: worst, rows: rows)
    }
}
