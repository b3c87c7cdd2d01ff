import AttnCore
import Foundation

/// Operation counts of the polynomial method and of exact attention, and
/// the crossover length where the polynomial method wins.
///
/// Counts (one multiply-add = 2 flops), per head:
///
///   poly(n)  = n·P,  P = 2·r·(2 + 2(d_v + 1)) + d_v
///              (features: one product and one weight per entry, both sides;
///               U₂ᵀ[V|1] and U₁W: 2·r·(d_v + 1) each; one division per output)
///   exact(n) = n²·E, E = 2d + 2d_v + κ_exp
///              (QKᵀ and PV; κ_exp flop-equivalents per exp + online softmax)
///
/// so the polynomial method wins exactly when n > P/E: the crossover is
/// ⌊P/E⌋ + 1. κ_exp = 16 is a calibration, not a count: on this machine
/// (2-core Zen 4, shared) `attnbound bench poly` measured crossovers between
/// about 160 and 370 at d = 4, r = 330 over several runs, and κ_exp = 16
/// puts the prediction (248) in the middle of that range. The model counts
/// flops only: fixed per-call costs (threads, buffers, the certificate) shift
/// the measured crossover on a loaded machine.
public struct CostModel: Sendable, Equatable {
    /// Flop-equivalents of one exp plus the online-softmax bookkeeping per score.
    public var expCost: Double
    public init(expCost: Double = 16) { self.expCost = expCost }

    public func polyFlopsPerRow(rank r: Double, valueCols dv: Int) -> Double {
        2 * r * (2 + 2 * Double(dv + 1)) + Double(dv)
    }

    public func exactFlopsPerPair(d: Int, valueCols dv: Int) -> Double {
        2 * Double(d) + 2 * Double(dv) + expCost
    }

    public func polyFlops(n: Int, rank r: Double, valueCols dv: Int) -> Double {
        Double(n) * polyFlopsPerRow(rank: r, valueCols: dv)
    }

    /// Exact attention's flops by the conventions' count (4·n²·d for d_v = d) plus κ_exp·n².
    public func exactFlops(n: Int, d: Int, valueCols dv: Int) -> Double {
        Double(n) * Double(n) * exactFlopsPerPair(d: d, valueCols: dv)
    }

    /// The smallest n at which poly(n) < exact(n).
    public func crossover(d: Int, valueCols dv: Int, rank r: Double) -> Double {
        (polyFlopsPerRow(rank: r, valueCols: dv) / exactFlopsPerPair(d: d, valueCols: dv)).rounded(.down) + 1
    }

    /// Working memory in bytes (Float64) beyond inputs and output:
    /// poly keeps a blockRows × r feature block per worker and the r × (d_v+1)
    /// partial sums of 8 key chunks; exact (tiled) keeps a 128 × 512 score
    /// tile and a 128 × d_v accumulator per worker, while a naive kernel
    /// would hold the n × n matrix.
    public func polyMemory(rank r: Double, valueCols dv: Int, blockRows: Int = 1024, workers: Int = 2) -> Double {
        8 * (Double(blockRows) * r * Double(workers) + 8 * r * Double(dv + 1) + Double(blockRows * workers * 4))
    }

    public func exactTiledMemory(valueCols dv: Int, workers: Int = 2) -> Double {
        8 * Double(workers) * (128 * 512 + 128 * Double(dv) + 256)
    }

    public func exactNaiveMemory(n: Int) -> Double { 8 * Double(n) * Double(n) }
}

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
    public static func make(n: Int, d: Int, valueCols dv: Int? = nil, entryBound B: Double, scale: Scale,
                            epsilon: Double, family: ExpFamily = .chebyshev, model: CostModel = CostModel()) throws -> PolyPlan {
        guard n >= 1 else { throw AttnError.usage(.n, "\(n) must be ≥ 1") }
        guard d >= 1 else { throw AttnError.usage(.d, "\(d) must be ≥ 1") }
        guard B.isFinite, B >= 0 else { throw AttnError.usage("--B \(B) must be finite and ≥ 0") }
        guard epsilon.isFinite, epsilon > 0 else { throw AttnError.usage(.epsilon, "\(epsilon) must be positive and finite") }
        let dv = dv ?? d
        let s = scale.value(d: d)
        let R = ScoreRadius.fromEntryBound(B, d: d, scale: s)
        guard R.isFinite else { throw AttnError.infeasible("score radius s·d·B² = \(R) is not finite") }
        guard let g = CertifiedExpBound.certifiedDegree(R: R, epsilon: epsilon, family: family) else {
            throw AttnError.infeasible("no \(family.rawValue) degree ≤ \(CertifiedExpBound.maxDegree) certifies ε = \(epsilon) at R = \(R)")
        }
        let r = PolyRank.rankAsDouble(d: d, degree: g)
        let eps = CertifiedExpBound.relativeError(family, R: R, degree: g)
        return PolyPlan(n: n, d: d, valueCols: dv, entryBound: B, scale: s, epsilon: epsilon, family: family, radius: R,
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
