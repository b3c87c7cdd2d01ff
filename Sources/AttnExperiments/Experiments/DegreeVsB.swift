import AttnCore
import AttnPoly
import Foundation

extension SweepMeasurer {
    /// The certified degree g for relative error ε = n^{−p} on [−B², B²], its rank
    /// r = C(g+d, d) and the cost exponent log_n(n·r·d). No data: the degree
    /// covers every input in the box, so `distribution` is "worst_case".
    func degreeVsB(_ p: SweepPoint) throws -> SweepRow {
        let eps = configuration.epsilon(n: p.n)
        guard
            let (g, bound) = try backend.certifiedDegree(
                radius: p.radius, epsilon: eps,
                maxDegree: configuration.maxDegree)
        else {
            // No degree up to the cap: the method cannot reach ε here at any useful cost.
            return SweepRow(method: backend.name, exponent: .infinity)
        }
        let logRank = PolyRank.logRank(d: p.d, degree: g)
        let rank = PolyRank.rank(d: p.d, degree: g).map(Double.init) ?? exp(logRank)
        return SweepRow(
            method: backend.name, degree: g, rank: rank,
            exponent: Self.costExponent(n: p.n, d: p.d, logRank: logRank), bound: bound)
    }
}
