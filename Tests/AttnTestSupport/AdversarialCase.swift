import AttnCore
import Foundation
import PropertyBased

/// The input regimes where the a-priori and a-posteriori bounds are tight (issue 11).
///
/// A property test that only draws uniform inputs sees errors of 1–2 % of the
/// kernel bounds; each regime below targets one term of a bound.
public enum Regime: String, CaseIterable, Sendable {
    /// Uniform entries in [−B, B]: the old generators' regime, kept as a baseline.
    case uniform
    /// Every key within a few ulps of the query direction: all scores within a few ulps of the row max.
    case nearTies
    /// n_k in the thousands, most scores near the max: the rounding of the long sums matters.
    case longRows
    /// Near-tie scores and values ±V of random sign, so the output cancels to about 0.
    case cancellingV
    /// Subnormal values (|v| below the smallest normal of the working precision).
    case subnormalV
    /// Values near the largest finite magnitude divided by 4·n_k (the largest the kernels accept).
    case nearOverflowV
    /// |scores| in the thousands with near-ties: a softmax that is *not* one-hot at huge magnitude.
    case hugeNearTies
    /// d = 1, scale 1, huge near-tie scores, and each value's sign chosen from the sign of its
    /// score's rounding error: the exponent errors all push the output the same way.
    case alignedRounding

    /// The regimes that need no particular precision or shape (all of them).
    public static let kernelRegimes: [Regime] = allCases
}

/// One seeded adversarial attention problem: shapes, regime, scale, causality.
/// Reproducible from `description` (regime, shapes and seed).
public struct AdversarialCase: Sendable, CustomStringConvertible {
    public var regime: Regime
    public var heads: Int, nq: Int, nk: Int, d: Int, dv: Int
    /// Entry bound B of Q and K for `uniform`; the target score magnitude for the tie regimes.
    public var magnitude: Double
    public var scale: Scale
    public var causal: Bool
    /// The score model of this case: bottom-right causal or plain.
    public var scoreModel: ScoreModel { causal ? .causal() : .plain }
    public var seed: UInt64

    public init(
        regime: Regime, heads: Int = 1, nq: Int, nk: Int, d: Int, dv: Int, magnitude: Double,
        scale: Scale, causal: Bool = false, seed: UInt64
    ) {
        self.regime = regime
        self.heads = heads; self.nq = nq; self.nk = nk; self.d = d; self.dv = dv
        self.magnitude = magnitude; self.scale = scale; self.causal = causal; self.seed = seed
        if regime == .alignedRounding { self.d = 1; self.scale = .decimal("1") }
    }

    public var description: String {
        "\(regime.rawValue) heads=\(heads) nq=\(nq) nk=\(nk) d=\(d) dv=\(dv) magnitude=\(magnitude) "
            + "scale=\(scale) causal=\(causal) seed=\(seed)"
    }

    /// Q, K, V in precision `T`. Q and K have `heads × n × d`, V `heads × n_k × d_v`.
    public func tensors<T: AttnScalar>(_: T.Type = T.self) -> (q: Tensor<T>, k: Tensor<T>, v: Tensor<T>) {
        var rng = Xoshiro256StarStar(seed: seed)
        let s = scale.value(d: d)
        switch regime {
        case .uniform:
            let q: Tensor<T> = InputDistribution.uniform.sample(
                heads: heads, rows: nq, cols: d, bound: magnitude, using: &rng)
            let k: Tensor<T> = InputDistribution.uniform.sample(
                heads: heads, rows: nk, cols: d, bound: magnitude, using: &rng)
            let v: Tensor<T> = InputDistribution.uniform.sample(heads: heads, rows: nk, cols: dv, bound: 1, using: &rng)
            return (q, k, v)
        case .nearTies, .longRows, .cancellingV, .subnormalV, .nearOverflowV, .hugeNearTies, .alignedRounding:
            // One direction per head; q and every k are that direction, perturbed by a few ulps,
            // scaled so that s·‖q‖·‖k‖ ≈ magnitude (Cauchy–Schwarz is then nearly an equality).
            var q = Tensor<T>(heads: heads, rows: nq, cols: d), k = Tensor<T>(heads: heads, rows: nk, cols: d)
            var v = Tensor<T>(heads: heads, rows: nk, cols: dv)
            let target = regime == .hugeNearTies || regime == .alignedRounding ? Swift.max(magnitude, 1000) : magnitude
            for h in 0..<heads {
                var dir = (0..<d).map { _ in rng.uniform(0.5, 1) * (rng.next() >> 63 == 0 ? 1 : -1) }
                let norm = dir.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let r = (target / s).squareRoot() / norm  // ‖r·dir‖² · s = target
                dir = dir.map { $0 * r }
                for i in 0..<nq { for c in 0..<d { q[h, i, c] = Self.jitter(T(dir[c]), &rng) } }
                for j in 0..<nk { for c in 0..<d { k[h, j, c] = Self.jitter(T(dir[c]), &rng) } }
                for j in 0..<nk {
                    for c in 0..<dv {
                        let sign: Double = rng.next() >> 63 == 0 ? 1 : -1
                        let x: T
                        switch regime {
                        case .subnormalV:
                            // Deep subnormals in T: 1 to 64 times the smallest subnormal (e.g. ≈ 1e-44 in
                            // Float), where every product with a weight rounds in absolute terms.
                            x = T(sign * Double(1 + rng.below(64))) * T.leastNonzeroMagnitude
                        case .nearOverflowV:
                            x = T(sign * rng.uniform(0.5, 1)) * (T.greatestFiniteMagnitude / T(4 * Swift.max(nk, 1)))
                        case .alignedRounding:
                            x = T(Self.roundingSign(q[h, 0, 0], k[h, j, 0]))
                        default:
                            x = T(sign * rng.uniform(0.9, 1))
                        }
                        v[h, j, c] = x
                    }
                }
            }
            return (q, k, v)
        }
    }

    /// `x` moved by 0–3 ulps either way (the near-tie perturbation).
    static func jitter<T: AttnScalar>(_ x: T, _ rng: inout Xoshiro256StarStar) -> T {
        var y = x
        let steps = rng.below(4)
        let up = rng.next() >> 63 == 0
        for _ in 0..<steps { y = up ? y.nextUp : y.nextDown }
        return y
    }

    /// +1 when fl_T(q·k) rounds above the exact product, −1 otherwise (the exact product of two
    /// floats is exact in Double; for Double inputs the residual comes from an FMA).
    static func roundingSign<T: AttnScalar>(_ q: T, _ k: T) -> Double {
        let rounded = q * k
        if T.self == Float.self {
            return Double(rounded) >= Double(q) * Double(k) ? 1 : -1
        }
        let (a, b, r) = (Double(q), Double(k), Double(rounded))
        return (-r).addingProduct(a, b) <= 0 ? 1 : -1  // a·b − r ≤ 0 ⇔ rounded up
    }

    /// Random cases over `regimes`: shapes up to `maxN` (the long-row regime uses 2000–4000 keys),
    /// d up to `maxD`, all three scale conventions, causal half the time (then n_q ≤ n_k).
    public static func generator(
        regimes: [Regime] = Regime.allCases, maxN: Int = 40, maxD: Int = 12,
        maxMagnitude: Double = 30
    ) -> Generator<AdversarialCase, some SendableSequenceType> {
        zip(
            Gen.element(of: regimes), Gen.int(in: 1...2), Gen.int(in: 1...maxN), Gen.int(in: 1...maxN),
            Gen.int(in: 1...maxD), Gen.int(in: 1...maxD), Gen.double(in: -3...log10(maxMagnitude)),
            Gen.int(in: 0...Int(Int32.max))
        )
        .map { regime, h, a, b, d, dv, logM, seed in
            let regime = regime ?? .uniform
            let causal = seed & 1 == 1
            let scales: [Scale] = [.paper, .standard, .decimal("0.37")]
            var nq = causal ? Swift.min(a, b) : a, nk = causal ? Swift.max(a, b) : b
            if regime == .longRows { nk = 2000 + (seed >> 3) % 2000; nq = Swift.min(nq, 3) }
            return AdversarialCase(
                regime: regime, heads: h, nq: nq, nk: nk, d: d, dv: dv,
                magnitude: logM < -2.9 ? 0 : Foundation.pow(10, logM),
                scale: scales[(seed >> 1) % 3], causal: causal, seed: UInt64(seed))
        }
    }
}
