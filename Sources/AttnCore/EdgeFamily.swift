import Foundation

/// Issue 23: families of finite inputs at the ends of the floating-point range, where a relative
/// rounding model fails (products and scales below the normal range, sums and scores beyond the
/// largest finite value). Each is defined for the working precision `T` (the Float64 analogues
/// are the same construction with Double's τ and F). The bounds must hold on all of them, or
/// be +∞ where the output is not finite. Drawn by the tests' generator (Tests/AttnTestSupport)
/// and by `attnbound demo --family`.
public enum EdgeFamily: String, CaseIterable, Sendable {
    /// Paper scale, q such that ŝ·q_c is a few τ (subnormal), keys near F/(4d): the prescale's
    /// absolute rounding is multiplied by huge keys.
    case prescaledUnderflow
    /// Decimal scales below the normal range (subnormal or 0 once rounded), with q·k large enough
    /// that the exact scores are of order 1.
    case tinyScale
    /// Subnormal V, so the output is subnormal in T.
    case subnormalOutput
    /// V near F: the unnormalised sum of n_k values exceeds F.
    case valuesNearMax
    /// Scores beyond ±F (whole rows below −F included).
    case scoresBeyondMax
    /// More than one 256-key tile, the running maximum jumping by more than 87.3 (Float) or 708
    /// (Double) at a later tile: the rescale α is subnormal or 0.
    case tileMaxJump
}

/// One seeded input of an `EdgeFamily`; `description` reproduces it.
public struct EdgeCase: Sendable, CustomStringConvertible {
    public var family: EdgeFamily
    public var nq: Int, nk: Int, d: Int, dv: Int
    public var seed: UInt64

    public init(family: EdgeFamily, nq: Int, nk: Int, d: Int, dv: Int, seed: UInt64) {
        (self.family, self.nq, self.nk, self.d, self.dv, self.seed) = (family, nq, nk, d, dv, seed)
        if family == .tileMaxJump { self.nk = Swift.max(nk, 257 + Int(seed % 64)) }
    }

    public var description: String { "\(family.rawValue) nq=\(nq) nk=\(nk) d=\(d) dv=\(dv) seed=\(seed)" }

    /// The scale the family uses in precision `T`.
    public func scale<T: AttnScalar>(_: T.Type) -> Scale {
        switch family {
        case .prescaledUnderflow: return .paper
        case .tinyScale:
            let texts = T.self == Float.self ? ["5e-46", "1e-45", "3e-45", "1e-40"] : ["5e-324", "1e-320", "1e-310"]
            return .decimal(texts[Int(seed % UInt64(texts.count))])
        case .scoresBeyondMax, .tileMaxJump: return .decimal("1")
        case .subnormalOutput, .valuesNearMax: return .standard
        }
    }

    /// Q (n_q × d), K (n_k × d), V (n_k × d_v) in precision `T`.
    public func tensors<T: AttnScalar>(_: T.Type = T.self) -> (q: Tensor<T>, k: Tensor<T>, v: Tensor<T>) {
        var rng = Xoshiro256StarStar(seed: seed)
        let tau = Double(T.leastNonzeroMagnitude), F = Double(T.greatestFiniteMagnitude)
        func sign() -> Double { rng.next() >> 63 == 0 ? 1 : -1 }
        func fill(_ rows: Int, _ cols: Int, _ f: (Int, Int) -> Double) -> Tensor<T> {
            var t = Tensor<T>(rows: rows, cols: cols)
            for i in 0..<rows { for c in 0..<cols { t[0, i, c] = T(f(i, c)) } }
            return t
        }
        let s = scale(T.self).value(d: d)
        switch family {
        case .prescaledUnderflow:
            let q = fill(nq, d) { _, _ in sign() * Double(d) * tau * rng.uniform(0.1, 40) }
            let k = fill(nk, d) { j, _ in j == 0 ? 0 : sign() * rng.uniform(0.5, 1) * F / Double(4 * d) }
            return (q, k, fill(nk, dv) { _, _ in sign() * rng.uniform(0.5, 1) })
        case .tinyScale:
            let x = 1 / (s * Double(d)).squareRoot()
            let q = fill(nq, d) { _, _ in sign() * x * rng.uniform(0.5, 2) }
            let k = fill(nk, d) { _, _ in sign() * x * rng.uniform(0.5, 2) }
            return (q, k, fill(nk, dv) { _, _ in sign() * rng.uniform(0.5, 1) })
        case .subnormalOutput:
            let q = fill(nq, d) { _, _ in rng.uniform(-2, 2) }, k = fill(nk, d) { _, _ in rng.uniform(-2, 2) }
            return (q, k, fill(nk, dv) { _, _ in sign() * Double(1 + rng.below(8)) * tau })
        case .valuesNearMax:
            let q = fill(nq, d) { _, _ in rng.uniform(-1, 1) }, k = fill(nk, d) { _, _ in rng.uniform(-1, 1) }
            return (q, k, fill(nk, dv) { _, _ in sign() * rng.uniform(0.5, 1) * F })
        case .scoresBeyondMax:
            let x = (F / Double(d)).squareRoot()
            let q = fill(nq, d) { i, _ in (i == 0 ? 1 : sign()) * x * rng.uniform(1, 4) }
            let k = fill(nk, d) { _, _ in -x * rng.uniform(1, 4) }
            return (q, k, fill(nk, dv) { _, _ in rng.uniform(-1, 1) })
        case .tileMaxJump:
            let jump = T.self == Float.self ? 100.0 : 800.0
            let q = fill(nq, d) { _, _ in 1 / Double(d) }
            let k = fill(nk, d) { j, _ in j < 256 ? rng.uniform(-1, 1) : jump + rng.uniform(0, 4) }
            return (q, k, fill(nk, dv) { _, _ in rng.uniform(-1, 1) })
        }
    }
}
