import AttnCore
import AttnKernels
import CLapack
import Foundation

/// dL/dX of `GradientProblem`'s loss, computed exactly in Float64 with a proved entrywise bound:
/// the certified reference against which `GradientPolyMethod` is measured.
///
/// The closed form (AS24b App. C, with its slips fixed; Proofs/gradient-polynomial-method.md §1):
/// with s = 1/d, S = s·A₁XA₂ᵀ, f = softmax_row(S), h = A₃Y, c = fh − E, q = c hᵀ, r_j = ⟨f_j, q_j⟩,
///
///   p = f ∘ (q − r 1ᵀ),   dL/dX = s·A₁ᵀ p A₂.
///
/// This is attention's backward pass at Q = A₁X, K = A₂, V = h, dO = c: p is dS, and dL/dX = A₁ᵀ·dQ.
/// Cost O(n²d) in blocks of 128 rows (no n × n matrix), memory O(128·n).
///
/// Bound (Proofs/gradient-polynomial-method.md §5): every term of the expanded expression passes
/// through at most K = 8n + 4d + 32 roundings and carries at most three softmax weights, each off by
/// the relative ζ = e^{2σ}(1 + e_exp)/(1 − e_exp) − 1 (σ: the scores' rounding, e_exp: exp's error), so
///
///   |ĝ_ab − g_ab| ≤ ((1 + γ_K)(1 + ζ)³ − 1)·Ḡ_ab + (underflow),   Ḡ_ab = (2/d)·max_l|A₂_lb|·Σ_j|A₁_ja| r̄_j,
///
/// r̄_j = ⟨f_j h̄ + |E_j|, f_j h̄⟩, h̄ = |A₃||Y|: the same loss evaluated on absolute values.
/// Test: `LossGradientTests` (agrees with finite differences in MPFR precision and with an MPFR
/// evaluation of the closed form, within `bound`).
public struct LossGradient: Sendable, Equatable {
    /// ĝ, d × d row-major.
    public let gradient: [Double]
    /// Per-entry bounds on |ĝ_ab − g_ab| (d × d).
    public let bounds: [Double]
    /// L̂(X) = ½‖ĉ‖²_F in Float64.
    public let loss: Double
    /// A bound on |L̂ − L(X)|: each ĉ_jb within e = ((1 + γ_K)(1 + ζ) − 1)·max h̄ + u|ĉ_jb| of c_jb,
    /// so |L̂ − L| ≤ Σ(|ĉ_jb|e + e²/2) + γ_{nd}·L̂.
    public let lossBound: Double

    public var maxBound: Double { bounds.max() ?? 0 }

    /// The largest |score| the reference accepts: e^{−2R} stays a normal double.
    public static let maxRadius = 300.0

    /// - Throws: `AttnError.infeasible` when the scores can reach beyond ±`maxRadius`.
    public static func exact(_ p: GradientProblem) throws -> LossGradient {
        let (n, d) = (p.n, p.d)
        let s = 1 / Double(d)
        let (q, h, qBar, hBar) = p.products
        // R̄ ≥ s·Σ_c (|A₁||X|)_jc |A₂_lc| ≥ |S_jl| for every pair (Cauchy–Schwarz on the majorants).
        let rBar = s * rowNormMax(qBar, n, d) * rowNormMax(p.a2.map(abs), n, d) * (1 + 1e-14)
        guard rBar <= maxRadius else {
            throw AttnError.infeasible("scores reach \(rBar), beyond the reference's limit ±\(maxRadius)")
        }
        let u = 0x1p-53
        let block = 128
        var g = [Double](repeating: 0, count: d * d)
        var colSum = [Double](repeating: 0, count: d)  // Σ_j |A₁_ja|·r̄_j
        var loss = 0.0, cAbs = 0.0, cMax = 0.0
        var sc = [Double](repeating: 0, count: block * n), pm = sc
        var w = [Double](repeating: 0, count: block * d), wBar = w, c = w, t = w
        let absE = p.e.map(abs)
        var j0 = 0
        while j0 < n {
            let rows = min(block, n - j0)
            // Scores S = s·Q_blk A₂ᵀ, then softmax by rows (max subtracted).
            q.withUnsafeBufferPointer { qb in
                cblas_dgemm(
                    CblasRowMajor, CblasNoTrans, CblasTrans, blasint(rows), blasint(n), blasint(d), s,
                    qb.baseAddress! + j0 * d, blasint(d), p.a2, blasint(d), 0, &sc, blasint(n))
            }
            for i in 0..<rows {
                var m = -Double.infinity
                for l in 0..<n { m = max(m, sc[i * n + l]) }
                var sum = 0.0
                for l in 0..<n {
                    let e = Foundation.exp(sc[i * n + l] - m)
                    sc[i * n + l] = e
                    sum += e
                }
                for l in 0..<n { sc[i * n + l] /= sum }
            }
            // W = f h, W̄ = f h̄, c = W − E, q = c hᵀ.
            cblas_dgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(rows), blasint(d), blasint(n), 1, sc, blasint(n),
                h, blasint(d), 0, &w, blasint(d))
            cblas_dgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(rows), blasint(d), blasint(n), 1, sc, blasint(n),
                hBar, blasint(d), 0, &wBar, blasint(d))
            var r = [Double](repeating: 0, count: rows), rBarRow = r
            for i in 0..<rows {
                for b in 0..<d {
                    let cv = w[i * d + b] - p.e[(j0 + i) * d + b]
                    c[i * d + b] = cv
                    r[i] += cv * w[i * d + b]
                    rBarRow[i] += (wBar[i * d + b] + absE[(j0 + i) * d + b]) * wBar[i * d + b]
                    loss += 0.5 * cv * cv
                    cAbs += abs(cv)
                    cMax = max(cMax, abs(cv))
                }
            }
            cblas_dgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, blasint(rows), blasint(n), blasint(d), 1, c, blasint(d), h,
                blasint(d), 0, &pm, blasint(n))
            // p = f ∘ (q − r), then G += A₁_blkᵀ (p A₂).
            for i in 0..<rows {
                for l in 0..<n { pm[i * n + l] = sc[i * n + l] * (pm[i * n + l] - r[i]) }
            }
            cblas_dgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(rows), blasint(d), blasint(n), 1, pm, blasint(n),
                p.a2, blasint(d), 0, &t, blasint(d))
            p.a1.withUnsafeBufferPointer { ab in
                cblas_dgemm(
                    CblasRowMajor, CblasTrans, CblasNoTrans, blasint(d), blasint(d), blasint(rows), 1,
                    ab.baseAddress! + j0 * d, blasint(d), t, blasint(d), 1, &g, blasint(d))
            }
            for i in 0..<rows {
                for a in 0..<d { colSum[a] += abs(p.a1[(j0 + i) * d + a]) * rBarRow[i] }
            }
            j0 += rows
        }
        for i in 0..<(d * d) { g[i] /= Double(d) }
        // The bound (module doc): σ from the scores' and the shift's roundings, ζ the weights' relative error.
        let rHat = s * rowNormMax(q, n, d) * rowNormMax(p.a2, n, d) * (1 + 1e-14)
        let sigma = Rounding.gamma(2 * d + 3, unitRoundoff: u) * rBar + 2 * u * (2 * rHat) * (1 + 2 * u)
        let eExp = Double.expRelativeError
        let zeta = CertifiedElementary.expUp(2 * sigma) * (1 + eExp) / (1 - eExp) * (1 + 4 * u) - 1
        let gammaK = Rounding.gamma(8 * n + 4 * d + 32, unitRoundoff: u)
        let rel = (1 + gammaK) * pow(1 + zeta, 3) * (1 + 4 * u) - 1
        // The majorant was itself computed from f̂ (within (1 + ζ)(1 + γ_K) of f per factor) and rounded:
        // inflate it by the same relative amount, twice over, and by γ_K for its own sums.
        let inflate = pow(1 + rel, 2) * (1 + gammaK)
        let a2Max = (0..<d).map { b in (0..<n).reduce(0.0) { max($0, abs(p.a2[$1 * d + b])) } }
        let under = underflow(p, hBar: hBar)
        var bounds = [Double](repeating: 0, count: d * d)
        for a in 0..<d {
            for b in 0..<d {
                let gBar = 2 / Double(d) * a2Max[b] * colSum[a] * inflate
                bounds[a * d + b] = (rel * gBar + under) * (1 + 1e-12)  // mutation-check: grad-reference
            }
        }
        let hMax = hBar.reduce(0) { max($0, $1) } * (1 + Rounding.gamma(d + 2, unitRoundoff: u))
        let e = (rel * hMax + u * cMax) * (1 + 2 * u) + under
        let lossBound =
            (e * cAbs + Double(n * d) * e * e / 2 + Rounding.gamma(n * d + 2, unitRoundoff: u) * loss) * (1 + 1e-12)
        return LossGradient(gradient: g, bounds: bounds, loss: loss, lossBound: lossBound)
    }

    /// max_i ‖x_i‖₂ over the rows of an n × d matrix, rounded up (relative error of the Double sum of
    /// squares ≤ γ_{d+2}; squares below 2⁻¹⁰²² add at most d·2⁻¹⁰²²).
    static func rowNormMax(_ x: [Double], _ n: Int, _ d: Int) -> Double {
        var best = 0.0
        for i in 0..<n {
            var s2 = 0.0
            for c in 0..<d { s2 += x[i * d + c] * x[i * d + c] }
            best = max(best, s2)
        }
        return (best * (1 + 1e-15 * Double(d + 4)) + Double(d) * 0x1p-1022).squareRoot() * (1 + 1e-15)
    }

    /// The absolute error of products that underflow (|fl(ab) − ab| ≤ τ/2 with τ the least subnormal,
    /// Higham §2.1; sums that underflow are exact): at most 4(n + 1)²(d + 2)² such errors per entry,
    /// each amplified by at most the product of the later factors' magnitudes (each ≥ 1 here).
    static func underflow(_ p: GradientProblem, hBar: [Double]) -> Double {
        func big(_ v: [Double]) -> Double { max(1, v.reduce(0) { max($0, abs($1)) }) }
        let amp = big(p.a1) * big(p.a2) * pow(big(hBar) * Double(p.d), 2) * (big(hBar) * Double(p.d) + big(p.e))
        let count = 4 * pow(Double(p.n + 1), 2) * pow(Double(p.d + 2), 2)
        return count * amp * Double.leastNonzeroMagnitude * 4
    }
}
