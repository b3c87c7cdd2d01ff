import AttnCore
import PropertyBased

/// A random attention problem: shapes, entry bound B, scale and causality.
struct AttentionCase: CustomStringConvertible, Sendable {
    var heads: Int, nq: Int, nk: Int, d: Int, dv: Int
    var bound: Double
    var scale: Scale
    var causal: Bool
    var seed: UInt64

    var description: String {
        "heads=\(heads) nq=\(nq) nk=\(nk) d=\(d) dv=\(dv) B=\(bound) scale=\(scale) causal=\(causal) seed=\(seed)"
    }

    func tensors<T: AttnScalar>(_: T.Type = T.self, distribution: InputDistribution = .uniform)
        -> (q: Tensor<T>, k: Tensor<T>, v: Tensor<T>) {
        var rng = Xoshiro256StarStar(seed: seed)
        let q: Tensor<T> = distribution.sample(heads: heads, rows: nq, cols: d, bound: bound, using: &rng)
        let k: Tensor<T> = distribution.sample(heads: heads, rows: nk, cols: d, bound: bound, using: &rng)
        let v: Tensor<T> = InputDistribution.uniform.sample(heads: heads, rows: nk, cols: dv, bound: 1, using: &rng)
        return (q, k, v)
    }

    /// Shapes up to `maxN` rows, B from 0 to `maxB` (log-spread so large B is common),
    /// all three scale conventions, causal half the time (then n_q ≤ n_k).
    static func generator(maxN: Int = 40, maxD: Int = 12, maxB: Double = 30) -> Generator<AttentionCase, some SendableSequenceType> {
        zip(Gen.int(in: 1...3), Gen.int(in: 1...maxN), Gen.int(in: 1...maxN), Gen.int(in: 1...maxD), Gen.int(in: 1...maxD),
            Gen.double(in: -3...log10(maxB)), Gen.int(in: 0...5), Gen.int(in: 0...Int(Int32.max)))
            .map { h, a, b, d, dv, logB, flags, seed in
                let causal = flags & 1 == 1
                let scales: [Scale] = [.paper, .standard, .decimal("0.37")]
                return AttentionCase(heads: h, nq: causal ? min(a, b) : a, nk: causal ? max(a, b) : b, d: d, dv: dv,
                                     bound: logB < -2.9 ? 0 : Foundation.pow(10, logB), scale: scales[flags / 2],
                                     causal: causal, seed: UInt64(seed))
            }
    }
}

import Foundation
