import AttnCore
import Testing

/// `InputDistribution.attentionInputs`: the one seeded set-up of generated Q, K, V.
@Suite struct InputDistributionTests {
    @Test func drawsQThenKThenVFromOneGenerator() {
        let (q, k, v) = InputDistribution.uniform.attentionInputs(
            heads: 2, queries: 3, keys: 5, d: 4, dv: 6,
            bound: 2, seed: 9, as: Float.self)
        var rng = Xoshiro256StarStar(seed: 9)
        let q2: Tensor<Float> = InputDistribution.uniform.sample(heads: 2, rows: 3, cols: 4, bound: 2, using: &rng)
        let k2: Tensor<Float> = InputDistribution.uniform.sample(heads: 2, rows: 5, cols: 4, bound: 2, using: &rng)
        let v2: Tensor<Float> = InputDistribution.uniform.sample(heads: 2, rows: 5, cols: 6, bound: 2, using: &rng)
        #expect(q.storage == q2.storage && k.storage == k2.storage && v.storage == v2.storage)
        #expect((v.heads, v.rows, v.cols) == (2, 5, 6))
        #expect(q.storage.allSatisfy { abs($0) <= 2 })
    }

}
