import AttnBlockSparse
import AttnCore
import AttnKernels
import AttnTestSupport
import PropertyBased
import Testing

@Suite struct BlockSparseAttentionTests {
    @Test func fullMaskIsExactAttention() async throws {
        await propertyCheck(
            count: 20, input: Gen.int(in: 1...70), Gen.int(in: 1...70), Gen.int(in: 1...9),
            Gen.int(in: 0...1_000_000)
        ) { nq, nk, tile, seed in
            let (q, k, v) = randomQKV(heads: 2, nq: nq, nk: nk, d: 8, dv: 5, bound: 2, seed: seed, as: Float.self)
            let tiles = TileSizes(queryTile: tile, keyTile: tile + 3)
            let mask = TileMask(
                heads: 2, qTiles: TileMask.tileCount(nq, tile: tile),
                kTiles: TileMask.tileCount(nk, tile: tile + 3))
            let r = try BlockSparseAttention.compute(q: q, k: k, v: v, scale: .standard, mask: mask, tiles: tiles)
            let (o, stats, fast) = (r.output, r.stats, r.rowBounds)
            let exact = try ReferenceAttention.compute(q: q, k: k, v: v, scale: .standard)
            let ref = ForwardErrorBound.reference(q: q, k: k, v: v, scale: .standard)
            #expect(withinRowBounds(o, exact, zip(fast, ref).map { $0 + $1 }))
            #expect(stats.skippedFraction == 0)
        }
    }

    /// With a full mask the block-sparse kernel computes exact attention, as
    /// the fused kernel (`FastAttention`) does by another operation order: they
    /// agree within the sum of their two proved bounds.
    @Test func fullMaskAscendingAgreesWithFastAttention() async throws {
        await propertyCheck(
            count: 12, input: Gen.int(in: 1...90), Gen.int(in: 1...90), Gen.int(in: 1...20),
            Gen.int(in: 0...1_000_000)
        ) { nq, nk, tile, seed in
            let tiles = TileSizes(queryTile: tile, keyTile: 2 * tile + 1)
            let (q, k, v) = randomQKV(heads: 2, nq: nq, nk: nk, d: 16, dv: 8, bound: 3, seed: seed, as: Float.self)
            let mask = TileMask(
                heads: 2, qTiles: TileMask.tileCount(nq, tile: tiles.queryTile),
                kTiles: TileMask.tileCount(nk, tile: tiles.keyTile))
            let sparse = try BlockSparseAttention.compute(q: q, k: k, v: v, scale: .standard, mask: mask, tiles: tiles)
            let fast = try FastAttention.compute(q: q, k: k, v: v, scale: .standard)
            let bound = zip(
                sparse.rowBounds,
                ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: .standard)
            ).map { $0 + $1 }
            let fastD = Tensor<Double>(
                heads: fast.heads, rows: fast.rows, cols: fast.cols, storage: fast.storage.map(Double.init))
            #expect(withinRowBounds(sparse.output, fastD, bound))
        }
    }

    @Test func sparseMaskEqualsMaskedReference() async throws {
        await propertyCheck(
            count: 20, input: Gen.int(in: 1...60), Gen.int(in: 1...60), Gen.double(in: 0...1),
            Gen.int(in: 0...1_000_000)
        ) { nq, nk, density, seed in
            let tiles = TileSizes(queryTile: 7, keyTile: 5)
            let (q, k, v) = randomQKV(heads: 2, nq: nq, nk: nk, d: 6, dv: 4, bound: 3, seed: seed, as: Double.self)
            let mask = randomMask(
                heads: 2, qTiles: TileMask.tileCount(nq, tile: 7), kTiles: TileMask.tileCount(nk, tile: 5),
                density: density, seed: seed)
            let r = try BlockSparseAttention.compute(q: q, k: k, v: v, scale: .standard, mask: mask, tiles: tiles)
            let (o, stats, fast) = (r.output, r.stats, r.rowBounds)
            let expected = try maskedReference(q: q, k: k, v: v, scale: .standard, mask: mask, tiles: tiles)
            // The returned bound is the full problem's: fewer keys and tiles, so it covers the masked one.
            #expect(fast.values == ForwardErrorBound.tiled(q: q, k: k, v: v, scale: .standard, tiles: tiles).values)
            let ref = ForwardErrorBound.reference(q: q, k: k, v: v, scale: .standard)
            #expect(withinRowBounds(o, expected, zip(fast, ref).map { $0 + $1 }))
            #expect(stats.computedTiles == mask.computedCount)
        }
    }

    @Test func resultDoesNotDependOnThreadCount() async throws {
        await propertyCheck(count: 10, input: Gen.int(in: 1...200), Gen.int(in: 0...1_000_000)) { n, seed in
            let tiles = TileSizes(queryTile: 16, keyTile: 32)
            let (q, k, v) = randomQKV(heads: 3, nq: n, nk: n, d: 16, dv: 16, bound: 1, seed: seed, as: Float.self)
            let mask = randomMask(
                heads: 3, qTiles: TileMask.tileCount(n, tile: 16), kTiles: TileMask.tileCount(n, tile: 32),
                density: 0.5, seed: seed)
            let one = try BlockSparseAttention.compute(
                q: q, k: k, v: v, scale: .paper, mask: mask, tiles: tiles, threads: 1)
            let many = try BlockSparseAttention.compute(
                q: q, k: k, v: v, scale: .paper, mask: mask, tiles: tiles, threads: 4)
            #expect(one.output.storage == many.output.storage)
        }
    }

    @Test func rejectsEmptyMaskRowAndWrongShape() throws {
        let (q, k, v) = randomQKV(heads: 1, nq: 8, nk: 8, d: 4, dv: 4, bound: 1, seed: 1, as: Float.self)
        let tiles = TileSizes(queryTile: 4, keyTile: 4)
        var mask = TileMask(heads: 1, qTiles: 2, kTiles: 2)
        mask[0, 1, 0] = false; mask[0, 1, 1] = false
        #expect(throws: AttnError.self) {
            try BlockSparseAttention.compute(q: q, k: k, v: v, scale: .standard, mask: mask, tiles: tiles)
        }
        #expect(throws: AttnError.self) {
            try BlockSparseAttention.compute(
                q: q, k: k, v: v, scale: .standard, mask: TileMask(heads: 1, qTiles: 3, kTiles: 2), tiles: tiles)
        }
    }
}
