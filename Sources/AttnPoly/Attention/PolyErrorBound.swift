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
///   underflow       (τ/2)·[(Σ_i + r/n_k)(1 + γ_m)e^R/((1 − ε)(1 − η_i)) + 1] + 4·2⁻¹⁰⁷⁴,
///                   Σ_i = (1 + γ_m)√(r·P̄(s‖q_i‖²)) + r·Ξ ≥ Σ_α|û₁_α(q_i)|, τ = smallest subnormal,
///                   Ξ = max(g + 2, 2g + 1)(τ/2)·Y^g·max(1, ω) (a feature's absolute underflow error), and η_i
///                   enlarged by the features' and the denominator's underflow (§5b)
///
/// u is the unit roundoff of the working precision, γ_m = m·u/(1 − m·u).
/// The bound is +∞ when ε ≥ 1 or η_i ≥ 1 (nothing can be promised). The
/// underflow term is what keeps the bound sound for subnormal (or tiny) V, where
/// every product u₂·v and the final division err absolutely, not relatively.
/// Proof: Proofs/polynomial-method-error.md, §3–5b.
/// Tests: `AttnPolyTests.AprioriBoundTests` (never violated against the reference;
/// `subnormalValuesStayWithinTheBound` fails without the underflow term).
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
    public static func head<T: AttnScalar>(
        q: UnsafeBufferPointer<T>, k: UnsafeBufferPointer<T>,
        v: UnsafeBufferPointer<T>, nq: Int, nk: Int, d: Int, dv: Int,
        scale s: Double, polynomial p: ExpPolynomial, chunks: Int,
        unitRoundoff u: Double
    ) -> Head {
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
        if eps < 1 { approximation = (factor(eps) * OutwardInterval(exactly: maxRange)).hi }
        let kMax = ScoreRadius.maxRowNorm(k, rows: nk, cols: d)
        let r = PolyRank.rankAsDouble(d: d, degree: p.degree)
        let m = Double(10 * p.degree + 12 + nk + chunks) + r
        let gamma = Rounding.gamma(m, unitRoundoff: u)
        let under = Underflow(
            q: q, k: k, d: d, nk: nk, scale: s, polynomial: p, rank: r, gamma: gamma,
            unitRoundoff: u, tau: Double(T.leastNonzeroMagnitude), keyNorm: kMax)
        // |ŝ − s*| ≤ c_s·s* (Scale.relativeError): every score moves by ≤ c_s·R(1 + 10⁻⁴), every weight ratio by e^{2·that}.
        let cs = Scale.relativeError(unitRoundoff: 0x1p-53, leastNonzeroMagnitude: 0x1p-1074, value: s)
        // s*/ŝ ≤ 1.0001 for a normal ŝ, ≤ 2 for a subnormal one (scale-rounding.md, "Subnormal scales").
        let ratio = s.isNormal ? 1.0001 : 2.0001
        let scaleTerm = (CertifiedElementary.expUp(2 * cs * ratio * p.radius) - 1) * maxV * (1 + 1e-15)
        // e^{R_i} ≤ e^R for every row (R_i ≤ R): one MPFR exp per head.
        let expR = CertifiedElementary.expUp(p.radius)
        var rows = [Double](repeating: 0, count: nq)
        var worstRounding = 0.0, worst = 0.0
        for i in 0..<nq {
            var q2 = 0.0
            for c in 0..<d { let x = Double(q[i * d + c]); q2 += x * x }
            // Rounded up; a square below 2⁻¹⁰²² loses at most 2⁻¹⁰²² (the subnormal pad, as ScoreRadius.maxRowNorm).
            q2 = q2 * (1 + 1e-15 * Double(d + 2)) + Double(d) * 0x1p-1022  // mutation-check: poly-qpad
            let Ri = min(p.radius, s * q2.squareRoot() * (1 + 1e-15) * kMax)
            let queryMass = under.queryMass(squaredNorm: q2)
            let eta =
                (gamma * p.absoluteMajorant(at: Ri) + under.perKey(queryMass: queryMass)) * expR / (1 - eps)
                * (1 + 1e-15)
            let rounding: Double, underflow: Double
            if eps < 1, eta < 1 {
                rounding = (2 * eta / (1 - eta) * maxV * (1 + u) + 2 * u * maxV) * (1 + 1e-14)
                // mutation-check: poly-underflow (the row regex is the line below)
                underflow = under.output(queryMass: queryMass, expR: expR, eps: eps, eta: eta)
            } else {
                (rounding, underflow) = (.infinity, .infinity)
            }
            rows[i] = (approximation + rounding + scaleTerm) * (1 + 1e-15) + underflow  // mutation-check: poly
            worstRounding = max(worstRounding, rounding)
            worst = max(worst, rows[i])
        }
        return Head(approximation: approximation, rounding: worstRounding, total: worst, rows: rows)
    }
}

/// The underflow terms of `PolyErrorBound.head` (Proofs/polynomial-method-error.md §5b). The standard
/// model with underflow is fl(a·b) = ab(1 + δ) + η, |η| ≤ τ/2, δη = 0, and additions that underflow are
/// exact (Higham §2.1); so only products and the final division err absolutely.
struct Underflow {
    let tau: Double
    let rank: Double
    let keys: Double
    let gamma: Double
    let degree: Int
    /// Ξ: the absolute underflow error of one computed feature.
    let feature: Double
    /// √(r·P̄(s·max‖k‖²))·(1 + γ) ≥ Σ_α|u₂_α(k_j)| for every key (Cauchy–Schwarz).
    let keyMass: Double
    let polynomial: ExpPolynomial
    let scale: Double

    init<T: AttnScalar>(
        q: UnsafeBufferPointer<T>, k: UnsafeBufferPointer<T>, d: Int, nk: Int, scale s: Double,
        polynomial p: ExpPolynomial, rank r: Double, gamma: Double, unitRoundoff u: Double,
        tau: Double, keyNorm: Double
    ) {
        (self.tau, rank, keys, self.gamma, degree, polynomial, scale) = (
            tau, r, Double(max(nk, 1)), gamma, p.degree, p, s
        )
        var x = 0.0
        for e in q { x = max(x, abs(Double(e))) }
        for e in k { x = max(x, abs(Double(e))) }
        // Y ≥ every computed |ŷ_c| = |fl(x_c·fl(√s))| (three roundings).
        let y = max(1, x * s.squareRoot() * (1 + 4 * u))
        // ω ≥ every stored √|w_α|: |w_α| = |ĉ_t|·t!/α! ≤ |ĉ_t|·dᵗ (Σ_{|α|=t} t!/α! = dᵗ).
        var w = 0.0
        for (t, c) in p.coefficients.enumerated() { w = max(w, abs(c) * pow(Double(d), Double(t))) }
        let omega = max(1, w.squareRoot() * (1 + 8 * u))
        // A degree-t feature takes ≤ 2t + 1 rounded products (t of ŷ, t of √|w_α|, one more): 2g + 1 ≥ g + 2 for g ≥ 1.
        feature =
            Double(max(p.degree + 2, 2 * p.degree + 1)) * (tau / 2) * pow(y, Double(p.degree)) * omega * (1 + gamma)
            * (1 + 1e-12)
        keyMass =
            (r * p.absoluteMajorant(at: s * keyNorm * keyNorm * (1 + 1e-14))).squareRoot() * (1 + gamma)
            * (1 + 1e-15)
    }

    /// Σ_i ≥ Σ_α|û₁_α(q_i)|, from ‖q_i‖² (rounded up).
    func queryMass(squaredNorm: Double) -> Double {
        (rank * polynomial.absoluteMajorant(at: scale * squaredNorm * (1 + 1e-15))).squareRoot() * (1 + gamma)
            * (1 + 1e-15) + rank * feature
    }

    /// Added to γ_m·P̄(R_i) before the factor e^R/(1 − ε): the features' underflow, per key, in the
    /// products Σ_α û₁û₂ (Ξ·(Σ_i + Σ_k) + r·Ξ²), and the denominator's r query products (r·τ/(2n_k)).
    func perKey(queryMass: Double) -> Double {
        ((feature * (queryMass + keyMass) + rank * feature * feature) * (1 + gamma) + rank * tau / (2 * keys))
            * (1 + 1e-15)
    }

    /// The absolute term of the output: the n_k key products û₂·v and r query products û₁·Ŵ per
    /// numerator, over D̂ ≥ (1 − ε)(1 − η_i)·n_k·e^{−R}, plus the final division's τ/2, plus
    /// 4·2⁻¹⁰⁷⁴ for the bound's own Double arithmetic when its terms are subnormal.
    func output(queryMass: Double, expR: Double, eps: Double, eta: Double) -> Double {
        let numerator = (queryMass + rank / keys) * (1 + gamma) * (1 + gamma)
        return ((tau / 2) * (numerator * expR / ((1 - eps) * (1 - eta)) + 1)) * (1 + 1e-14)
            + 4 * Double.leastNonzeroMagnitude
    }
}
