import AttnBlockSparse
import AttnCore
import AttnKernels
import AttnTestSupport
import Testing

/// The block-sparse bound (ForwardErrorBound.fast of the full problem) in the adversarial regimes of
/// the shared generator, Float32, random masks, against the masked Float64 reference (issue 11).
@Suite struct BlockSparseTightnessTests {
    static let cases: [AdversarialCase] = [
        AdversarialCase(regime: .alignedRounding, nq: 8, nk: 400, d: 1, dv: 1, magnitude: 6000, scale: .decimal("1"), seed: 21),
        AdversarialCase(regime: .hugeNearTies, nq: 8, nk: 200, d: 4, dv: 2, magnitude: 3000, scale: .standard, seed: 22),
        AdversarialCase(regime: .cancellingV, nq: 8, nk: 300, d: 3, dv: 2, magnitude: 200, scale: .standard, seed: 23),
        AdversarialCase(regime: .subnormalV, nq: 8, nk: 100, d: 2, dv: 2, magnitude: 5, scale: .paper, seed: 24),
    ]

    @Test func fastBoundCoversTheRestrictedProblem() throws {
        var worst = 0.0
        for c in Self.cases {
            let tiles = TileSizes(queryTile: 4, keyTile: 16)
            let (q, k, v) = c.tensors(Float.self)
            let mask = randomMask(heads: c.heads, qTiles: TileMask.tileCount(c.nq, tile: 4), kTiles: TileMask.tileCount(c.nk, tile: 16),
                                  density: 0.6, seed: Int(c.seed))
            let r = try BlockSparseAttention.compute(q: q, k: k, v: v, scale: c.scale, mask: mask, tiles: tiles)
            let (o, fast) = (r.output, r.rowBounds)  // the kernel's own bound: ForwardErrorBound.fast, full problem
            let expected = try maskedReference(q: q, k: k, v: v, scale: c.scale, mask: mask, tiles: tiles)
            let ref = ForwardErrorBound.reference(q: q, k: k, v: v, scale: c.scale)
            for h in 0..<o.heads { for i in 0..<o.rows { for col in 0..<o.cols {
                let e = abs(Double(o[h, i, col]) - expected[h, i, col]), b = fast[h * o.rows + i]
                #expect(BoundLedger.shared.within(.blockSparse, error: e, bound: b + ref[h * o.rows + i]), "\(c) (\(h),\(i),\(col))")
                if b > 0 { worst = max(worst, e / b) }
            }}}
            print("tightness \(TrackedBound.blockSparse.rawValue) \(c.regime.rawValue): \(worst)")
        }
        print("tightness worst \(TrackedBound.blockSparse.rawValue): \(worst)")
        withKnownIssue("the block-sparse bound is ForwardErrorBound.fast of the full problem, ~100× loose (issue 11)") {
            #expect(worst >= requiredTightness)
        }
        #expect(worst > 1e-3, "\(worst)")
    }
}
