import AttnCore
import Foundation

/// Degree, ranks and cost of the polynomial method for dL/dX (`GradientPolyMethod`) before any data
/// is seen, as `PolyPlan` plans the forward: entries with ‖A₁X‖∞, ‖A₂‖∞ ≤ B put every score
/// s·⟨(A₁X)_j, A₂_l⟩ (s = 1/d) in [−B², B²], and the certified degree g for relative error ε there
/// fixes k₁ = C(g + d, d), k₂ = d and the rank k₁k₂ of p̃₁ = f̃ ∘ q̃.
///
/// Counts (one multiply-add = 2 flops): the method costs n·k₁·(4d² + 10d + 12) + 2k₁d³ (features both
/// sides, W, N₂, M₂ on keys, Y, N₁, M₁ on queries, the two d × k₁d products); the exact gradient
/// (`LossGradient`) n²·(8d + 3 + κ_exp) (scores, f·h, c·hᵀ, p, p·A₂, and κ_exp per exp, as `CostModel`).
/// Test: `GradientPlanTests`.
public struct GradientPlan: Sendable, Equatable {
    public let n: Int
    public let d: Int
    public let entryBound: Double
    public let epsilon: Double
    public let family: ExpFamily
    /// R = B².
    public let radius: Double
    /// The smallest degree whose certified relative error on [−R, R] is ≤ ε.
    public let degree: Int
    /// k₁ = C(g + d, d): the forward method's rank.
    public let k1: Double
    /// k₂ = d (c̃ formed; the paper's construction has k₁ + d).
    public let k2: Int
    /// k₁·k₂.
    public var rank: Double { k1 * Double(k2) }
    /// k₁·(k₁ + d): the rank of p₁ in AS24b's own construction (c̃ left unformed).
    public var paperRank: Double { k1 * (k1 + Double(d)) }
    /// log_n(n·k₁k₂·d): 2 means no gain over the exact gradient's n²d.
    public var exponent: Double { 1 + (log(k1) + log(Double(k2)) + log(Double(d))) / log(Double(n)) }
    public let polyFlops: Double
    public let exactFlops: Double
    /// The smallest n at which the method needs fewer flops than the exact gradient.
    public let crossoverN: Double
    public var polyWins: Bool { polyFlops < exactFlops }

    /// - Throws: `AttnError.usage` naming the bad argument; `.infeasible` if no degree ≤ `maxDegree`
    ///   certifies ε at R = B².
    public static func make(
        n: Int, d: Int, entryBound B: Double, epsilon: Double, family: ExpFamily = .chebyshev,
        maxDegree: Int = CertifiedExpBound.maxDegree, model: CostModel = CostModel()
    ) throws -> GradientPlan {
        guard n >= 1 else { throw AttnError.usage(.n, "\(n) must be ≥ 1") }
        guard (1...GradientProblem.maxD).contains(d) else {
            throw AttnError.usage(.d, "\(d) must be in 1...\(GradientProblem.maxD)")
        }
        guard B.isFinite, B >= 0 else { throw AttnError.usage(.B, "\(B) must be finite and ≥ 0") }
        guard epsilon.isFinite, epsilon > 0 else {
            throw AttnError.usage(.epsilon, "\(epsilon) must be positive and finite")
        }
        let R = ScoreRadius.fromEntryBound(B, d: d, scale: 1 / Double(d))
        guard let g = CertifiedExpBound.certifiedDegree(R: R, epsilon: epsilon, family: family), g <= maxDegree else {
            throw AttnError.infeasible(
                .degree, "no \(family.rawValue) degree ≤ \(maxDegree) certifies ε = \(epsilon) at R = \(R)")
        }
        let k1 = PolyRank.rankAsDouble(d: d, degree: g), dd = Double(d)
        let perRow = k1 * (4 * dd * dd + 10 * dd + 12)
        let perPair = 8 * dd + 3 + model.expCost
        return GradientPlan(
            n: n, d: d, entryBound: B, epsilon: epsilon, family: family, radius: R, degree: g, k1: k1, k2: d,
            polyFlops: Double(n) * perRow + 2 * k1 * dd * dd * dd, exactFlops: Double(n) * Double(n) * perPair,
            crossoverN: (perRow / perPair).rounded(.down) + 1)
    }
}
