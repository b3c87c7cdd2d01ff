import AttnCore
import AttnPaged

/// A small random decode problem in `kv-replay`'s shapes.
struct SmallProblem {
    let keys: Tensor<Float>
    let values: Tensor<Float>
    let queries: Tensor<Float>
    let pageSize: Int

    /// Keys and queries uniform in [−bound, bound], values in [−1, 1]; `steps` decode steps after `prompt` tokens.
    init(seed: UInt64, kvHeads: Int, group: Int, d: Int, dv: Int, prompt: Int, steps: Int, pageSize: Int, bound: Double)
    {
        var rng = Xoshiro256StarStar(seed: seed)
        let n = prompt + steps
        keys = InputDistribution.uniform.sample(heads: kvHeads, rows: n, cols: d, bound: bound, using: &rng)
        values = InputDistribution.uniform.sample(heads: kvHeads, rows: n, cols: dv, bound: 1, using: &rng)
        queries = InputDistribution.uniform.sample(
            heads: kvHeads * group, rows: steps, cols: d, bound: bound, using: &rng)
        self.pageSize = pageSize
    }
}

/// Exact max_j q·k_j over rows `rows` of `keys` (`n × d`, row-major), for dyadic inputs
/// (see `dyadic`), where every Double operation here is exact.
func exactMaxDot(query: [Float], keys: [Float], rows: Range<Int>, d: Int) -> Double {
    var best = -Double.infinity
    for j in rows {
        var s = 0.0
        for c in 0..<d { s += Double(query[c]) * Double(keys[j * d + c]) }
        best = max(best, s)
    }
    return best
}

/// Floats on a grid of 1/64 in [−4, 4]: products and sums of up to 64 terms are exact in Float and Double.
func dyadic(_ rng: inout Xoshiro256StarStar, count: Int) -> [Float] {
    (0..<count).map { _ in Float(rng.below(513) - 256) / 64 }
}
