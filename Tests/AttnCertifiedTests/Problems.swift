import AttnCertified
import AttnCore
import PropertyBased

/// A random attention problem in Float32, drawn from a seeded Xoshiro256** so
/// a failing case is reproducible from the printed (seed, sizes).
struct Problem: Sendable, CustomStringConvertible {
    let q: Tensor<Float>
    let k: Tensor<Float>
    let v: Tensor<Float>
    let seed: UInt64

    init(seed: UInt64, heads: Int = 1, nq: Int, nk: Int, d: Int, dv: Int, bound: Double,
         distribution: InputDistribution = .uniform) {
        var g = Xoshiro256StarStar(seed: seed)
        q = distribution.sample(heads: heads, rows: nq, cols: d, bound: bound, using: &g)
        k = distribution.sample(heads: heads, rows: nk, cols: d, bound: bound, using: &g)
        v = distribution.sample(heads: heads, rows: nk, cols: dv, bound: 1, using: &g)
        self.seed = seed
    }

    var description: String { "seed \(seed), shapes q \(q.shape) k \(k.shape) v \(v.shape)" }

    /// Small problems of every shape class: n_k ≥ n_q (so causal is valid), B up to 8.
    static let small = zip(Gen.int(in: 0...Int.max), Gen.int(in: 1...6), Gen.int(in: 0...6), Gen.int(in: 1...5),
                           Gen.int(in: 1...3), Gen.double(in: 0.1...8)).map { seed, nq, extra, d, dv, b in
        Problem(seed: UInt64(seed), nq: nq, nk: nq + extra, d: d, dv: dv, bound: b)
    }
}

/// The scales tried everywhere: both conventions and an exact decimal.
let scales: [Scale] = [.paper, .standard, .decimal("0.37")]

/// One of `scales`.
let anyScale = Gen.element(of: scales).map { $0! }
