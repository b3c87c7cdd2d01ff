import AttnCore

/// Seeded random Q, K, V with entries uniform in [−B, B]: the plain (non-adversarial)
/// problem of the block-sparse and pruning tests, defined once for every test target.
public func randomQKV<T: AttnScalar>(
    heads: Int, nq: Int, nk: Int, d: Int, dv: Int, bound: Double, seed: Int,
    as: T.Type = T.self
) -> (Tensor<T>, Tensor<T>, Tensor<T>) {
    var rng = Xoshiro256StarStar(seed: UInt64(seed))
    let q: Tensor<T> = InputDistribution.uniform.sample(heads: heads, rows: nq, cols: d, bound: bound, using: &rng)
    let k: Tensor<T> = InputDistribution.uniform.sample(heads: heads, rows: nk, cols: d, bound: bound, using: &rng)
    let v: Tensor<T> = InputDistribution.uniform.sample(heads: heads, rows: nk, cols: dv, bound: bound, using: &rng)
    return (q, k, v)
}
