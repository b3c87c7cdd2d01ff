import AttnCore
import AttnPoly
import Foundation

extension SweepMeasurer {
    /// The polynomial method for dL/dX (`GradientPlan`, `GradientPolyMethod`): certified degree g for
    /// ε = n^{−p} on [−B², B²], rank k₁k₂ = C(g + d, d)·d and exponent log_n(n·k₁k₂·d) for every point;
    /// where the method is worth running (k₁k₂ ≤ n, n ≤ `SweepConfiguration.maxDenseN`, n·k₁d² ≤ 2³⁰) also
    /// its a-priori bound (`bound`) and its certified error (`error` = max|ĝ − ĝ_ref| + the reference's
    /// proved bound ≥ ‖ĝ − dL/dX‖∞) on a random instance (X = Y = I, A₃, E in [−1, 1]); `rows` is then n.
    func gradVsB(_ p: SweepPoint) throws -> SweepRow {
        let method = "grad-" + backend.name
        let family = (backend as? AttnPolyBackend)?.family ?? .chebyshev
        guard
            let plan = try? GradientPlan.make(
                n: p.n, d: p.d, entryBound: p.B, epsilon: configuration.epsilon(n: p.n), family: family,
                maxDegree: configuration.maxDegree)
        else { return SweepRow(method: method, exponent: .infinity) }
        var row = SweepRow(method: method, degree: plan.degree, rank: plan.rank, exponent: plan.exponent)
        let dd = Double(p.d)
        guard p.n <= SweepConfiguration.maxDenseN, plan.rank <= Double(p.n), Double(p.n) * plan.k1 * dd * dd <= 0x1p30
        else { return row }
        var rng = Xoshiro256StarStar(seed: p.seed)
        let dist = InputDistribution(rawValue: p.distribution) ?? .uniform
        let problem = try GradientProblem.random(n: p.n, d: p.d, entryBound: p.B, distribution: dist, using: &rng)
        let res = try GradientPolyMethod.compute(problem, family: family, degree: .degree(plan.degree))
        let ref = try LossGradient.exact(problem)
        var diff = 0.0
        for (a, b) in zip(res.gradient, ref.gradient) {
            let e = abs(a - b)
            diff = e.isNaN ? .infinity : Swift.max(diff, e)
        }
        (row.rows, row.error, row.bound) = (p.n, (diff + ref.maxBound) * (1 + 0x1p-50), res.bound.total)
        return row
    }

    /// `GradientReduction` on a random instance (A₁, A₂ in [−B, B], A₃ in [−1, 1]): one row per m in
    /// 1, 2, 4, …, 32 gradient calls, `rows` = m, `error` = |estimate − (f̂(1) − f̂(0))|, `bound` = b/m
    /// plus the certified errors of the oracle and of f̂.
    func gradReduction(_ p: SweepPoint) throws -> [SweepRow] {
        var rng = Xoshiro256StarStar(seed: p.seed)
        let dist = InputDistribution(rawValue: p.distribution) ?? .uniform
        let problem = try GradientProblem.random(n: p.n, d: p.d, entryBound: p.B, distribution: dist, using: &rng)
        let r = try GradientReduction(problem, calls: GradientReduction.sweepCalls)
        return r.estimates.map { SweepRow(method: "riemann", rows: $0.m, error: $0.error, bound: $0.bound) }
    }
}

extension GradientReduction {
    /// The m values of the sweep's `grad-reduction` rows.
    static let sweepCalls = [1, 2, 4, 8, 16, 32]
}
