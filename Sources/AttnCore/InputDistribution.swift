/// Distributions of random attention inputs with entries in [−B, B].
public enum InputDistribution: String, Sendable, CaseIterable, Codable {
    /// Uniform in [−B, B].
    case uniform
    /// ±B with equal probability (the extreme points of the box).
    case signs
    /// N(0, (B/2)²) clipped to [−B, B].
    case gaussian

    /// A `heads × rows × cols` tensor whose entries lie in [−B, B].
    ///
    /// Postcondition: every entry `x` satisfies `|x| ≤ B` exactly, also after
    /// rounding to `T` (values are clamped after conversion).
    @inlinable
    public func sample<T: AttnScalar>(
        heads: Int = 1, rows: Int, cols: Int, bound B: Double,
        using rng: inout Xoshiro256StarStar, as: T.Type = T.self
    ) -> Tensor<T> {
        precondition(B >= 0 && B.isFinite)
        let count = heads * rows * cols
        var out = [T](repeating: 0, count: count)
        let bT = T(B)
        // Round B down if the conversion rounded up, so |x| ≤ B holds in T.
        let bound = Double(bT) > B ? bT.nextDown : bT
        for i in 0..<count {
            let x: Double
            switch self {
            case .uniform: x = rng.uniform(-B, B)
            case .signs: x = (rng.next() >> 63) == 0 ? B : -B
            case .gaussian: x = Swift.min(B, Swift.max(-B, 0.5 * B * rng.gaussian()))
            }
            out[i] = Swift.min(bound, Swift.max(-bound, T(x)))
        }
        return Tensor(heads: heads, rows: rows, cols: cols, storage: out)
    }
}

extension InputDistribution {
    /// Seeded attention inputs: Q (`heads × queries × d`), then K (`heads × keys × d`), then
    /// V (`heads × keys × dv`), drawn in that order from one `Xoshiro256StarStar(seed:)`, entries
    /// in [−B, B]. The one set-up of every command and benchmark that generates its inputs, so the
    /// same seed gives the same tensors everywhere (AttnKit.docc/Conventions.md, "Randomness").
    public func attentionInputs<T: AttnScalar>(
        heads: Int = 1, queries: Int, keys: Int, d: Int, dv: Int? = nil,
        bound B: Double = 1, seed: UInt64, as: T.Type = T.self
    )
        -> (q: Tensor<T>, k: Tensor<T>, v: Tensor<T>)
    {
        var rng = Xoshiro256StarStar(seed: seed)
        let q: Tensor<T> = sample(heads: heads, rows: queries, cols: d, bound: B, using: &rng)
        let k: Tensor<T> = sample(heads: heads, rows: keys, cols: d, bound: B, using: &rng)
        let v: Tensor<T> = sample(heads: heads, rows: keys, cols: dv ?? d, bound: B, using: &rng)
        return (q, k, v)
    }
}
