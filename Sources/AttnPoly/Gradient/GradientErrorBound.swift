import AttnCore
import Foundation

/// The certified a-priori bound on ‖g̃ − dL/dX‖∞ of `GradientPolyMethod`, and its parts.
///
/// With ε the certified relative error of the stored polynomial P̂ on [−R, R]
/// (`ExpPolynomial.certifiedRelativeError`), σ the scores' rounding (fl(A₁X) and the stored √s) and
/// ε' = (1 + ε)e^σ − 1, every row of f̃ moves by ½‖f̃_j − f_j‖₁ ≤ m := ε'/(2 − ε'²) (the forward's sharp
/// lemma). Then, with z the centre of h's bounding box, ρ = max_l‖h_l − z‖₂, w_j = (f̃h)_j:
///
///   approximation = (1/d)·½·max_b range_b(A₂)·max_a Σ_j |A₁_ja|·Π_j,
///   Π_j = 2m·[‖c̃_j‖(2ρ + ‖w_j − z‖) + ρ(ρ + ‖w_j − z‖ + 2mρ)]  ≥ ‖p̃_j − p_j‖₁,
///
/// and rounding = the computed ĝ against the same algorithm in exact arithmetic: every term passes
/// through at most K = 10g + 2n + k₁(d + 1) + 2d + 40 roundings, the denominators D̂_j are off by the
/// relative η_j = γ_K·D̄_j/(D̂_j − γ_K·D̄_j) (D̄_j = Σ_α|Û_jα|Σ_l|V̂_lα|), and the errors of ŵ, ĉ, r̂
/// propagate as Proofs/gradient-polynomial-method.md §4 writes out; underflow adds an absolute term.
/// The bound is +∞ when ε' ≥ 1 or some η_j ≥ 1 (nothing can be promised).
/// Proof: Proofs/gradient-polynomial-method.md. Tests: `GradientPolyMethodTests`
/// (`boundNeverViolated`, `boundIsApproached`; mutation row `grad-poly`).
public struct GradientErrorBound: Sendable, Equatable {
    /// |g̃ − g| in exact arithmetic (the polynomial's error through the gradient).
    public let approximation: Double
    /// The computed ĝ against g̃ (Float64 rounding).
    public let rounding: Double
    /// Products that underflow (absolute).
    public let underflow: Double
    /// ε' = (1 + ε)e^σ − 1: the relative error of P̂ at the computed scores against e^{exact score}.
    public let epsilon: Double
    /// The whole bound on ‖ĝ − dL/dX‖∞.
    public let total: Double

    /// R ≥ |s·(√ŝ)²/s·⟨fl(A₁X)_j, A₂_l⟩| for every pair: the interval P̂ must cover.
    static func radius(q: [Double], a2: [Double], n: Int, d: Int) -> Double {
        let s = 1 / Double(d)
        let r = s * LossGradient.rowNormMax(q, n, d) * LossGradient.rowNormMax(a2, n, d) * (1 + 4 * 0x1p-53)
        return r == 0 ? 0 : (r * (1 + 1e-14)).nextUp
    }

    /// Collects the per-row pieces while `GradientPolyMethod` runs its query pass.
    struct Accumulator {
        let n: Int, d: Int, u = 0x1p-53
        let gammaK: Double, gammaD: Double
        let hMax: Double, rho: Double, centre: [Double]
        let a1: [Double]
        let m: Double, eps: Double
        var approxSum: [Double], roundSum: [Double]
        var infinite = false
        var maxScaled = 1.0

        init(problem p: GradientProblem, h: [Double], hBar: [Double], polynomial poly: ExpPolynomial, k1: Int) {
            (n, d, a1) = (p.n, p.d, p.a1)
            let u = 0x1p-53
            gammaK = Rounding.gamma(
                10 * Double(poly.degree) + 2 * Double(n) + Double(k1) * Double(d + 1) + Double(2 * d + 40),
                unitRoundoff: u)
            gammaD = Rounding.gamma(d + 2, unitRoundoff: u)
            hMax = hBar.reduce(0) { max($0, $1) } * (1 + gammaD)
            var lo = [Double](repeating: .infinity, count: d), hi = [Double](repeating: -.infinity, count: d)
            for l in 0..<n {
                for b in 0..<d { (lo[b], hi[b]) = (min(lo[b], h[l * d + b]), max(hi[b], h[l * d + b])) }
            }
            let z = (0..<d).map { lo[$0] / 2 + hi[$0] / 2 }
            var r2 = 0.0
            for l in 0..<n {
                var t = 0.0
                for b in 0..<d { t += (h[l * d + b] - z[b]) * (h[l * d + b] - z[b]) }
                r2 = max(r2, t)
            }
            // ‖h_l − z‖ for the exact h: the computed norm, rounded up, plus ‖h − ĥ‖ ≤ √d·γ_d·max h̄.
            rho = (r2 * (1 + 1e-14)).squareRoot() * (1 + 1e-15) + Double(d).squareRoot() * gammaD * hMax
            centre = z
            // σ: fl(A₁X) moves a score by ≤ s·γ_d·‖(|A₁||X|)_j‖‖A₂_l‖, the stored √s by ≤ 4u·R.
            let (_, _, qBar, _) = p.products
            let s = 1 / Double(d)
            let sigma =
                s * gammaD * LossGradient.rowNormMax(qBar, n, d) * LossGradient.rowNormMax(p.a2, n, d) + 4 * u
                * poly.radius
            let e = (1 + poly.certifiedRelativeError) * CertifiedElementary.expUp(sigma * (1 + 1e-14)) - 1
            eps = (e * (1 + 1e-15)).nextUp
            m = eps < 1 ? PolyErrorBound.factor(eps).hi : .infinity
            approxSum = [Double](repeating: 0, count: d)
            roundSum = approxSum
        }

        /// Row j's pieces: D̂_j, its majorant Σ_α|Û_jα|Σ_l|V̂_lα|, ŵ_j, ĉ_j and r̂_j as computed.
        mutating func addRow(_ j: Int, denominator den: Double, majorant: Double, w: [Double], c: [Double], r: Double) {
            let dBar = majorant * (1 + gammaK) * (1 + gammaK)
            let dLo = den - gammaK * dBar
            guard dLo > 0, dLo.isFinite, dBar.isFinite, m.isFinite else { infinite = true; return }
            let eta = gammaK * dBar / dLo * (1 + 1e-15)
            guard eta < 1 else { infinite = true; return }
            let etaP = eta / (1 - eta) * (1 + 1e-15)
            let kappa = dBar / dLo * (1 + 1e-15)
            let eW = hMax * (u + eta + gammaK * kappa * (1 + u)) / (1 - eta) * (1 + 1e-14)
            var cMax = 0.0, c1 = 0.0, c2 = 0.0, wAbs = 0.0, cw = 0.0, wz = 0.0
            for b in 0..<d {
                cMax = max(cMax, abs(c[b]))
                c1 += abs(c[b])
                c2 += c[b] * c[b]
                wAbs += abs(w[b])
                cw += abs(c[b] * w[b])
                wz += (w[b] - centre[b]) * (w[b] - centre[b])
            }
            let slack = 1 + 1e-14 * Double(d + 4)
            (c1, wAbs, cw) = (c1 * slack, wAbs * slack, cw * slack)
            let sd = Double(d).squareRoot() * (1 + 1e-15)
            let eC = (eW + u * cMax) * (1 + u) * (1 + 1e-15)
            let eR = (c1 * eW + eC * (wAbs + Double(d) * eW) + gammaD * cw) * (1 + 1e-14)
            let r1 = kappa * hMax * ((etaP + gammaK * (1 + etaP)) * c1 + Double(d) * eC * (1 + etaP))
            let r2 = kappa * ((etaP + gammaK * (1 + etaP)) * abs(r) + eR * (1 + etaP))
            // Π_j ≥ ‖p̃_j − p_j‖₁ (exact arithmetic), from the exact c̃_j and w_j enclosed around ĉ_j, ŵ_j.
            let cNorm = (c2 * slack).squareRoot() + sd * eC
            let wNorm = (wz * slack).squareRoot() + sd * eW
            let pi = 2 * m * (cNorm * (2 * rho + wNorm) + rho * (rho + wNorm + 2 * m * rho)) * (1 + 1e-14)
            let rowRound = (r1 + r2) * (1 + 1e-14)
            for a in 0..<d {
                let x = abs(a1[j * d + a])
                approxSum[a] += x * pi
                roundSum[a] += x * rowRound
            }
            maxScaled = max(maxScaled, cMax / den, abs(r) / den)
        }

        func finish(t1: [Double], t2: [Double], a2: [Double], features: Double, degree: Int, k1: Int)
            -> GradientErrorBound
        {
            var range = 0.0, a2Max = 0.0
            for b in 0..<d {
                var lo = Double.infinity, hi = -Double.infinity
                for l in 0..<n { (lo, hi) = (min(lo, a2[l * d + b]), max(hi, a2[l * d + b])) }
                range = max(range, (hi - lo).nextUp)
                a2Max = max(a2Max, abs(lo), abs(hi))
            }
            let dd = Double(d)
            guard !infinite else {
                return GradientErrorBound(
                    approximation: .infinity, rounding: .infinity, underflow: .infinity, epsilon: eps,
                    total: .infinity)
            }
            let approximation = 0.5 * range * (approxSum.max() ?? 0) / dd * (1 + 1e-14)
            var tMax = 0.0
            for i in t1.indices { tMax = max(tMax, abs(t1[i]) + abs(t2[i])) }
            let rounding = (a2Max * (roundSum.max() ?? 0) / dd + 3 * u * tMax / dd) * (1 + 1e-13)
            // Underflow: ≤ 4(n + 1)²(k₁ + 1)(d + 2)²(g + 2) products per entry err by ≤ τ/2 each, amplified by
            // at most the product of the later factors' magnitudes (each taken ≥ 1).
            func big(_ v: [Double]) -> Double { max(1, v.reduce(0) { max($0, abs($1)) }) }
            let count = 4 * pow(Double(n + 1), 2) * Double(k1 + 1) * pow(dd + 2, 2) * Double(degree + 2)
            let amp = big(a1) * max(1, a2Max) * max(1, hMax) * pow(max(1, features), 2) * maxScaled * dd
            let underflow = count * amp * Double.leastNonzeroMagnitude
            let total = (approximation + rounding + underflow) * (1 + 1e-14)  // mutation-check: grad-poly
            return GradientErrorBound(
                approximation: approximation, rounding: rounding, underflow: underflow, epsilon: eps, total: total)
        }
    }
}
