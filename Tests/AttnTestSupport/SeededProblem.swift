import AttnCore

/// A seeded attention problem: Q and K drawn from `distribution` with entries bounded by B, V by
/// `valueBound` (1 unless told), in that order from one Xoshiro256** stream. The plain problem of the
/// certified-engine and polynomial-method property tests, defined once; a failing case is reproducible
/// from `description`.
public struct SeededProblem<T: AttnScalar>: Sendable, CustomStringConvertible {
    public let q: Tensor<T>
    public let k: Tensor<T>
    public let v: Tensor<T>
    public let seed: UInt64

    public init(
        seed: UInt64, heads: Int = 1, nq: Int, nk: Int, d: Int, dv: Int, bound: Double,
        valueBound: Double = 1, distribution: InputDistribution = .uniform
    ) {
        var g = Xoshiro256StarStar(seed: seed)
        q = distribution.sample(heads: heads, rows: nq, cols: d, bound: bound, using: &g)
        k = distribution.sample(heads: heads, rows: nk, cols: d, bound: bound, using: &g)
        v = distribution.sample(heads: heads, rows: nk, cols: dv, bound: valueBound, using: &g)
        self.seed = seed
    }

    public var description: String { "seed \(seed), shapes q \(q.shape) k \(k.shape) v \(v.shape)" }
}
