import AttnCore
import Foundation

/// Seeded random attention inputs for the property tests.
struct Problem {
    let q: Tensor<Double>
    let k: Tensor<Double>
    let v: Tensor<Double>

    init(seed: Int, heads: Int = 1, nq: Int, nk: Int, d: Int, dv: Int, B: Double,
         distribution: InputDistribution = .uniform) {
        var rng = Xoshiro256StarStar(seed: UInt64(seed))
        q = distribution.sample(heads: heads, rows: nq, cols: d, bound: B, using: &rng)
        k = distribution.sample(heads: heads, rows: nk, cols: d, bound: B, using: &rng)
        v = distribution.sample(heads: heads, rows: nk, cols: dv, bound: 1, using: &rng)
    }
}

/// The scales the tests draw from.
let testScales: [Scale] = [.paper, .standard, .decimal("0.37"), .decimal("1")]
