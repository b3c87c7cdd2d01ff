import AttnBlockSparse
import AttnCore
import AttnKernels
import AttnTestSupport
import Testing

/// The block-sparse bound (ForwardErrorBound.tiled of the full problem) in the adversarial regimes of
/// the shared generator, Float32, random masks, against the masked Float64 reference (issue 11).
@Suite struct BlockSparseTightnessTests {
    static let cases: [AdversarialCase] = [
        AdversarialCase(
            regime: .alignedRounding, nq: 8, nk: 400, d: 1, dv: 1, magnitude: 6000, scale: .decimal("1"), seed: 21),
        AdversarialCase(
            regime: .hugeNearTies, nq: 8, nk: 200, d: 4, dv: 2, magnitude: 3000, scale: .standard, seed: 22),
        AdversarialCase(regime: .cancellingV, nq: 8, nk: 300, d: 3, dv: 2, magnitude: 200, scale: .standard, seed: 23),
        AdversarialCase(regime: .subnormalV, nq: 8, nk: 100, d: 2, dv: 2, magnitude: 5, scale: .paper, seed: 24),
    ]

    @Test func fastBoundCoversTheRestrictedProblem() throws {
        var worst = 0.0
        for c in Self.cases {
            let tiles = TileSizes(queryTile: 4, keyTile: 16)
            let (q, k, v) = c.tensors(Float.self)
            let mask = randomMask(
                heads: c.heads, qTiles: TileMask.tileCount(c.nq, tile: 4), kTiles: TileMask.tileCount(c.nk, tile: 16),
                density: 0.6, seed: Int(c.seed))
            let r = try BlockSparseAttention.compute(q: q, k: k, v: v, scale: c.scale, mask: mask, tiles: tiles)
            let (o, fast) = (r.output, r.rowBounds)  // the kernel's own bound: ForwardErrorBound.tiled, full problem
            let expected = try maskedReference(q: q, k: k, v: v, scale: c.scale, mask: mask, tiles: tiles)
            let ref = ForwardErrorBound.reference(q: q, k: k, v: v, scale: c.scale)
            for h in 0..<o.heads {
                for i in 0..<o.rows {
                    for col in 0..<o.cols {
                        let e = abs(Double(o[h, i, col]) - expected[h, i, col]), b = fast[h * o.rows + i]
                        #expect(
                            BoundLedger.shared.within(.blockSparse, error: e, bound: b + ref[h * o.rows + i]),
                            "\(c) (\(h),\(i),\(col))")
                        if b > 0 { worst = max(worst, e / b) }
                    }
                }
            }
            print("tightness \(TrackedBound.blockSparse.rawValue) \(c.regime.rawValue): \(worst)")
        }
        worst = max(worst, try Self.staircase())
        print("tightness worst \(TrackedBound.blockSparse.rawValue): \(worst)")
        #expect(worst >= requiredTightness)
        #expect(worst > 0.5, "halving the bound must fail somewhere: \(worst)")
    }

    /// The rounding staircase (`RoundingStaircase`, Float32) through the tile engine: one k-tile per row (one
    /// kernel tile of 256 keys, or four of a 1024-key k-tile); the engine sums each tile's keys in one chain per
    /// output, so the numerator climbs the whole staircase. Exact output `RoundingStaircase.value`. Returns the
    /// largest error/bound (Proofs/block-sparse-error.md).
    static func staircase() throws -> Double {
        var worst = 0.0
        for (rows, dv, keyTile) in [(16, 16, 256), (16, 16, 1024)] {
            let st = RoundingStaircase(rows: rows, keys: keyTile, valueCols: dv, unitRoundoff: Float.unitRoundoff)
            let (q, k, v) = st.tensors(Float.self)
            let tiles = TileSizes(queryTile: rows, keyTile: keyTile)
            let mask = TileMask(heads: 1, qTiles: 1, kTiles: 1)
            let r = try BlockSparseAttention.compute(q: q, k: k, v: v, scale: st.scale, mask: mask, tiles: tiles)
            let (o, fast) = (r.output, r.rowBounds)  // the kernel's own bound: ForwardErrorBound.tiled
            var w = 0.0
            for i in 0..<st.rows {
                for c in 0..<dv {
                    let e = abs(Double(o[0, i, c]) - st.exactOutput), b = fast[i]
                    #expect(BoundLedger.shared.within(.blockSparse, error: e, bound: b), "\(st) row \(i): \(e) > \(b)")
                    w = max(w, e / b)
                }
            }
            print("tightness \(TrackedBound.blockSparse.rawValue) \(st) keyTile \(keyTile): \(w)")
            worst = max(worst, w)
        }
        return worst
    }
}
