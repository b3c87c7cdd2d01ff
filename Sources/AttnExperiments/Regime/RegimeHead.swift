import AttnCore
import AttnPoly
import Foundation

/// Where one (batch, head) of a real model sits against the B = Θ(√log n)
/// threshold: its entry bound, its score radius, and what the polynomial
/// method would need on it (`Regime.analyze` builds these).
public struct RegimeHead: Sendable, Equatable {
    public let batch: Int
    public let head: Int
    /// The K head this query head reads (GQA: head / (heads_q / heads_kv)).
    public let kvHead: Int
    public let queries: Int
    /// n: the number of keys (ε = n^{−p}, c and the cost model use it).
    public let keys: Int
    public let d: Int
    /// B = max |entry| of this head's Q and K (the paper's bound; exact, a maximum of stored values).
    public let entryBound: Double
    /// c = B/√ln n (the sweep's collapse variable).
    public let c: Double
    /// The target sup relative error ε of the polynomial for exp.
    public let epsilon: Double
    /// The user's scale first, then the paper's (1/d) when it differs.
    public let scales: [RegimeAtScale]
}

/// The polynomial method on one head at one scale.
public struct RegimeAtScale: Sendable, Equatable {
    public let scale: Scale
    /// s as the nearest double.
    public let scaleValue: Double
    /// R = s·max_i‖q_i‖·max_j‖k_j‖ (Cauchy–Schwarz), rounded up: every |s·q_i·k_j| ≤ R.
    public let radius: Double
    /// The computed max |s·q_i·k_j| and a proved bound on its error (`ScoreMaximum.scaled`).
    public let maxAbsScore: Double
    public let maxAbsScoreErrorBound: Double
    /// The smallest degree g whose certified sup relative error of exp on [−R, R] is ≤ ε
    /// (`CertifiedExpBound.certifiedDegree`, as `plan`); nil if none ≤ `CertifiedExpBound.maxDegree`.
    public let degree: Int?
    /// The certified sup relative error at that degree (+∞ without a degree).
    public let relativeErrorBound: Double
    /// r = C(g + d, d) (`PolyRank`; +∞ without a degree or beyond the double range).
    public let rank: Double
    /// log_n(n·r·d), the sweep's cost exponent (`SweepMeasurer.costExponent`); 2 is exact attention's.
    public let exponent: Double
    /// The cost model's verdict at this n (`CostModel`, d_v = d): poly needs fewer flops than exact.
    public let polyWins: Bool
    /// The n from which it would, at this degree (`CostModel.crossover`; +∞ without a degree).
    public let crossoverN: Double

    /// The polynomial method's numbers for radius R (`ScoreRadius.measured` at s) at n keys, dimension d.
    static func make(
        scale: Scale, scaleValue s: Double, radius R: Double, maximum: ScoreMaximum, n: Int, d: Int,
        epsilon: Double, family: ExpFamily, model: CostModel
    ) -> RegimeAtScale {
        let (score, scoreBound) = maximum.scaled(by: s)
        guard R.isFinite, let g = CertifiedExpBound.certifiedDegree(R: R, epsilon: epsilon, family: family) else {
            return RegimeAtScale(
                scale: scale, scaleValue: s, radius: R, maxAbsScore: score,
                maxAbsScoreErrorBound: scoreBound, degree: nil, relativeErrorBound: .infinity,
                rank: .infinity, exponent: .infinity, polyWins: false, crossoverN: .infinity)
        }
        let rank = PolyRank.rankAsDouble(d: d, degree: g)
        return RegimeAtScale(
            scale: scale, scaleValue: s, radius: R, maxAbsScore: score, maxAbsScoreErrorBound: scoreBound,
            degree: g, relativeErrorBound: CertifiedExpBound.relativeError(family, R: R, degree: g), rank: rank,
            exponent: SweepMeasurer.costExponent(n: n, d: d, logRank: PolyRank.logRank(d: d, degree: g)),
            polyWins: model.polyFlops(n: n, rank: rank, valueCols: d) < model.exactFlops(n: n, d: d, valueCols: d),
            crossoverN: model.crossover(d: d, valueCols: d, rank: rank))
    }
}
