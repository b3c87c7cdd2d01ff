import AttnCore
import Foundation

/// The answer of `attnbound plan`.
public struct PolyPlan: Sendable, Equatable {
    public let n: Int
    public let d: Int
    public let valueCols: Int
    public let entryBound: Double
    public let scale: Double
    public let epsilon: Double
    public let family: ExpFamily
    /// R = s·d·B².
    public let radius: Double
    public let degree: Int
    /// C(g + d, d) (as a double: it may exceed Int).
    public let rank: Double
    /// Aggarwal–Alman's Θ(max(2R, ln(1/ε)/ln(ln(1/ε)/2R))) with constant 1.
    public let aggarwalAlmanDegree: Double
    /// Certified sup relative error at that degree (the exact polynomial).
    public let certifiedRelativeError: Double
    /// A-priori bound on max|T − Att| for |V| ≤ B, approximation part (2ε'/(1−ε')·B).
    public let outputErrorBound: Double
    public let polyFlops: Double
    public let exactFlops: Double
    public let polyMemory: Double
    public let exactTiledMemory: Double
    public let exactNaiveMemory: Double
    /// Smallest n at which the polynomial method needs fewer flops.
    public let crossoverN: Double
    public var polyWins: Bool { polyFlops < exactFlops }

    /// Plans the polynomial method for entries in [−B, B].
    /// - Throws: `AttnError.usage` for bad arguments; `.infeasible` if no certified degree exists.
    public static func make(
        n: Int, d: Int, valueCols dv: Int? = nil, entryBound B: Double, scale: Scale,
        epsilon: Double, family: ExpFamily = .chebyshev, model: CostModel = CostModel()
    ) throws -> PolyPlan {
        guard n >= 1 else { throw AttnError.usage(.n, "\(n) must be ≥ 1") }
        guard (1...4096).contains(d) else { throw AttnError.usage(.d, "\(d) must be in 1...4096") }
        if let dv, !(1...65536).contains(dv) { throw AttnError.usage(.dv, "\(dv) must be in 1...65536") }
        guard B.isFinite, B >= 0 else { throw AttnError.usage(.B, "\(B) must be finite and ≥ 0") }
        guard epsilon.isFinite, epsilon > 0 else {
            throw AttnError.usage(.epsilon, "\(epsilon) must be positive and finite")
        }
        let dv = dv ?? d
        let s = scale.value(d: d)
        let R = ScoreRadius.fromEntryBound(B, d: d, scale: s)
        guard R.isFinite else { throw AttnError.infeasible("score radius s·d·B² = \(R) is not finite") }
        guard let g = CertifiedExpBound.certifiedDegree(R: R, epsilon: epsilon, family: family) else {
            throw AttnError.infeasible(
                "no \(family.rawValue) degree ≤ \(CertifiedExpBound.maxDegree) certifies ε = \(epsilon) at R = \(R)")
        }
        let r = PolyRank.rankAsDouble(d: d, degree: g)
        let eps = CertifiedExpBound.relativeError(family, R: R, degree: g)
        return PolyPlan(
            n: n, d: d, valueCols: dv, entryBound: B, scale: s, epsilon: epsilon, family: family, radius: R,
            degree: g, rank: r, aggarwalAlmanDegree: CertifiedExpBound.aggarwalAlmanDegree(R: R, epsilon: epsilon),
            certifiedRelativeError: eps, outputErrorBound: PolyErrorBound.approximation(epsilon: eps, maxAbsV: B),
            polyFlops: model.polyFlops(n: n, rank: r, valueCols: dv),
            exactFlops: model.exactFlops(n: n, d: d, valueCols: dv),
            polyMemory: model.polyMemory(rank: r, valueCols: dv),
            exactTiledMemory: model.exactTiledMemory(valueCols: dv),
            exactNaiveMemory: model.exactNaiveMemory(n: n),
            crossoverN: model.crossover(d: d, valueCols: dv, rank: r))
    }
}
