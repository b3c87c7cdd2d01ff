import AttnCore
import Foundation

/// An executable illustration of AS24b's lower-bound reduction (Lemmas E.3–E.4): recovering
/// f(1) − f(0), f(λ) = ‖D(λ)⁻¹exp(λA₁A₂ᵀ/d)A₃‖²_F, from m gradient calls at X = λI.
///
/// With E = 0 and Y = I the loss is L(λI) = ½f(λ), so f′(λ) = 2·tr(dL/dX at λI), and the left Riemann
/// sum (1/m)Σ_{i<m} f′(i/m) recovers ∫₀¹f′ = f(1) − f(0) within max|f″|/(2m) = b/m. The paper's
/// b = O(B²n); ours, proved in Proofs/gradient-polynomial-method.md §6, is
///
///   b = 2ρ(2ρ + ρ₃)·Σ_j S_j²,   S_j = ‖A₁_j‖·max_l‖A₂_l‖/d ≥ max_l|s_jl|,
///
/// ρ₃ = max_l‖A₃_l‖, ρ = max_l‖A₃_l − z‖ (z the centre of A₃'s bounding box). (The f has
/// exp(A₁A₂ᵀ); ours keeps the loss's 1/d, i.e. A₁, A₂ scaled by 1/√d.) It is an illustration: the
/// gradients come from the exact oracle `LossGradient`, whose error is added to the bound, so the
/// measured error shows the b/m of the reduction itself, not a hardness result.
/// Test: `GradientReductionTests`.
public struct GradientReduction: Sendable {
    /// One Riemann sum.
    public struct Estimate: Sendable, Equatable {
        /// Gradient calls.
        public let m: Int
        /// (1/m)Σ_{i<m} f′(i/m).
        public let estimate: Double
        /// |estimate − (f̂(1) − f̂(0))|, as computed.
        public let error: Double
        /// b/m plus the oracle's and f's certified errors: |estimate − (f(1) − f(0))| ≤ bound.
        public let bound: Double
    }

    /// f̂(1) − f̂(0) and the bound on its own error.
    public let difference: Double
    public let differenceBound: Double
    /// b ≥ max_{λ∈[0,1]} |f″(λ)|/2.
    public let curvature: Double
    public let estimates: [Estimate]

    /// - Parameters:
    ///   - problem: A₁, A₂, A₃ (its X, Y, E are replaced by λI, I and 0).
    ///   - calls: the m values; every f′(i/m) is computed once (at the points of the largest m that
    ///     contains them: m values that divide the largest share its calls).
    /// - Throws: `AttnError.usage(.steps, …)` for an m < 1 or above 4096; `LossGradient`'s errors.
    public init(_ problem: GradientProblem, calls: [Int]) throws {
        guard !calls.isEmpty, calls.allSatisfy({ (1...4096).contains($0) }) else {
            throw AttnError.usage(.steps, "gradient call counts must be in 1...4096")
        }
        let (n, d) = (problem.n, problem.d)
        let eye = (0..<(d * d)).map { $0 % (d + 1) == 0 ? 1.0 : 0 }
        let base = try GradientProblem(
            n: n, d: d, a1: problem.a1, x: eye, a2: problem.a2, a3: problem.a3, y: eye,
            e: [Double](repeating: 0, count: n * d))
        // f′(t) = 2·tr(g(tI)), cached by t (t = i/m is exact in binary for m a power of two; else by key).
        var cache: [Double: (value: Double, bound: Double)] = [:]
        func derivative(_ t: Double) throws -> (value: Double, bound: Double) {
            if let v = cache[t] { return v }
            let g = try LossGradient.exact(base.with(x: eye.map { $0 * t }))
            var tr = 0.0, err = 0.0
            for a in 0..<d { tr += g.gradient[a * d + a]; err += g.bounds[a * d + a] }
            let v = (2 * tr, (2 * err + 2 * abs(tr) * Double(d) * 0x1p-52) * (1 + 1e-12))
            cache[t] = v
            return v
        }
        // f(1) = 2·L(I); f(0) = n·‖mean_l A₃_l‖² (D⁻¹exp(0) averages the rows).
        let one = try LossGradient.exact(base)
        var mean = [Double](repeating: 0, count: d), meanAbs = mean
        for l in 0..<n {
            for b in 0..<d {
                (mean[b], meanAbs[b]) = (mean[b] + problem.a3[l * d + b], meanAbs[b] + abs(problem.a3[l * d + b]))
            }
        }
        // |m̂_b − m_b| ≤ γ_{n+1}·mean|A₃_·b| =: δ_b, so |f̂(0) − f(0)| ≤ n·Σ_b(2|m̂_b|δ_b + δ_b²) + γ_{d+3}·f̂(0).
        let gammaN = Rounding.gamma(n + 1, unitRoundoff: 0x1p-53)
        var f0 = 0.0, f0Err = 0.0
        for b in 0..<d {
            let m = mean[b] / Double(n), delta = gammaN * meanAbs[b] / Double(n) * (1 + 1e-15)
            f0 += m * m
            f0Err += 2 * abs(m) * delta + delta * delta
        }
        f0 *= Double(n)
        f0Err = f0Err * Double(n) + Rounding.gamma(d + 3, unitRoundoff: 0x1p-53) * f0
        difference = 2 * one.loss - f0
        differenceBound = (2 * one.lossBound + f0Err + 0x1p-52 * abs(difference)) * (1 + 1e-12)
        curvature = Self.curvature(problem)
        var out: [Estimate] = []
        for m in calls {
            var sum = 0.0, oracle = 0.0
            for i in 0..<m {
                let (v, b) = try derivative(Double(i) / Double(m))
                sum += v
                oracle += b
            }
            let est = sum / Double(m)
            let rounding = Rounding.gamma(m + 1, unitRoundoff: 0x1p-53) * abs(est) * 2
            out.append(
                Estimate(
                    m: m, estimate: est, error: abs(est - difference),
                    bound: (curvature / Double(m) + oracle / Double(m) + differenceBound + rounding) * (1 + 1e-12)))
        }
        estimates = out
    }

    /// b = 2ρ(2ρ + ρ₃)·Σ_j S_j², rounded up (module doc).
    static func curvature(_ p: GradientProblem) -> Double {
        let (n, d) = (p.n, p.d)
        var lo = [Double](repeating: .infinity, count: d), hi = [Double](repeating: -.infinity, count: d)
        for l in 0..<n {
            for b in 0..<d { (lo[b], hi[b]) = (min(lo[b], p.a3[l * d + b]), max(hi[b], p.a3[l * d + b])) }
        }
        let z = (0..<d).map { lo[$0] / 2 + hi[$0] / 2 }
        let centred = (0..<(n * d)).map { p.a3[$0] - z[$0 % d] }
        let rho = LossGradient.rowNormMax(centred, n, d) * (1 + 1e-15)
        let rho3 = LossGradient.rowNormMax(p.a3, n, d)
        let k = LossGradient.rowNormMax(p.a2, n, d)
        var sum = 0.0
        for j in 0..<n {
            var q2 = 0.0
            for c in 0..<d { q2 += p.a1[j * d + c] * p.a1[j * d + c] }
            let s = (q2 * (1 + 1e-15 * Double(d + 4))).squareRoot() * k / Double(d) * (1 + 1e-15)
            sum += s * s
        }
        return 2 * rho * (2 * rho + rho3) * sum * (1 + 1e-13)  // mutation-check: grad-reduction
    }
}
