import AttnCertified
import AttnCore
import AttnKernels
import PropertyBased
import Testing

/// `AttentionKernel.run`, the kernels' common result shape: the output widened
/// by its row bounds contains the certified enclosure, for both kernels and
/// both precisions (the reference's bound includes its rounding to T).
@Suite struct AttentionTests {
    static func check<T: KernelScalar>(_ c: KernelsVsCertifiedTests.Case, _: T.Type) {
        let (q, k, v) = c.inputs(T.self)
        let r = try! CertifiedAttention.compute(
            q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel, precision: 128)
        for kernel in AttentionKernel.allCases {
            let res = try! kernel.run(q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel)
            #expect(res.rowBounds.heads == q.heads && res.rowBounds.rows == q.rows)
            KernelsVsCertifiedTests.expectContains(res.output, bounds: res.rowBounds, r, c, "\(kernel) \(T.self)")
        }
    }

    @Test func resultWidenedByItsRowBoundsContainsTheEnclosure() async {
        await propertyCheck(count: 30, input: KernelsVsCertifiedTests.cases) { c in
            Self.check(c, Float.self)
            Self.check(c, Double.self)
        }
    }

    /// Causal bounds are per row: a row that sees fewer keys never gets a larger
    /// bound than the same problem unmasked, and the last row (which sees every key) the same one.
    @Test func causalRowBoundsFollowTheMask() {
        var g = Xoshiro256StarStar(seed: 7)
        let q: Tensor<Float> = InputDistribution.uniform.sample(rows: 40, cols: 4, bound: 2, using: &g)
        let k: Tensor<Float> = InputDistribution.uniform.sample(rows: 600, cols: 4, bound: 2, using: &g)
        let v: Tensor<Float> = InputDistribution.uniform.sample(rows: 600, cols: 3, bound: 1, using: &g)
        let tiles = TileSizes(queryTile: 8, keyTile: 64)
        let pairs = [
            (
                ForwardErrorBound.reference(q: q, k: k, v: v, scale: .standard),
                ForwardErrorBound.reference(q: q, k: k, v: v, scale: .standard, scoreModel: .causal())
            ),
            (
                ForwardErrorBound.fast(q: q, k: k, v: v, scale: .standard, tiles: tiles),
                ForwardErrorBound.fast(q: q, k: k, v: v, scale: .standard, scoreModel: .causal(), tiles: tiles)
            ),
        ]
        for (full, masked) in pairs {
            for i in 0..<q.rows { #expect(masked[head: 0, row: i] <= full[head: 0, row: i]) }
            #expect(masked[head: 0, row: q.rows - 1] == full[head: 0, row: q.rows - 1])
            #expect(masked[head: 0, row: 0] < full[head: 0, row: 0])
        }
    }
}
