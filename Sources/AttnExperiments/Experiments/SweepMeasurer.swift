import AttnCore
import AttnPoly
import Foundation

/// Measures one grid point: the experiments' numerical core.
///
/// Postcondition: the rows returned depend only on the configuration, the
/// backend and the point (its seed), never on timing or scheduling.
public struct SweepMeasurer: Sendable {
    public let configuration: SweepConfiguration
    public let backend: any PolynomialBackend

    public init(configuration: SweepConfiguration, backend: any PolynomialBackend) {
        self.configuration = configuration
        self.backend = backend
    }

    public func measure(_ p: SweepPoint) throws -> [SweepRow] {
        switch p.experiment {
        case .degreeVsB: return [try degreeVsB(p)]
        case .errorVsB: return [try errorVsB(p)]
        case .erankVsB: return [try erankVsB(p)]
        case .hardInstance: return try hardInstance(p)
        case .gradVsB: return [try gradVsB(p)]
        case .gradReduction: return try gradReduction(p)
        }
    }

    /// log_n(n·r·d): the cost exponent of the polynomial method (2 = exact's).
    static func costExponent(n: Int, d: Int, logRank: Double) -> Double {
        1 + (logRank + log(Double(d))) / log(Double(n))
    }

    /// The degree and rank the budget r ≤ n^γ allows at dimension d.
    func budgetDegree(n: Int, d: Int) -> (degree: Int, rank: Int) {
        // r ≤ n^γ; floor so the budget is an integer count of features.
        let budget = Int(Swift.min(pow(Double(n), configuration.gamma), Double(PolyAttention.maxRank)))
        let g = Swift.min(PolyRank.largestDegree(d: d, maxRank: Swift.max(1, budget)) ?? 0, configuration.maxDegree)
        return (g, PolyRank.rank(d: d, degree: g)!)
    }

    /// Q (n×d, entries in [−B, B]), K likewise, V (n×d_v, entries in [−1, 1]) from
    /// the point's distribution: V is kept in [−1, 1] so errors read relative to ‖V‖∞.
    func inputs(_ p: SweepPoint, dv: Int, rng: inout Xoshiro256StarStar) -> (
        Tensor<Double>, Tensor<Double>, Tensor<Double>
    ) {
        let dist = InputDistribution(rawValue: p.distribution) ?? .uniform
        let q: Tensor<Double> = dist.sample(rows: p.n, cols: p.d, bound: p.B, using: &rng)
        let k: Tensor<Double> = dist.sample(rows: p.n, cols: p.d, bound: p.B, using: &rng)
        let v: Tensor<Double> = dist.sample(rows: p.n, cols: dv, bound: 1, using: &rng)
        return (q, k, v)
    }
}
