import AttnCore
import PropertyBased
import Testing

/// The tile classifier against its definition: a tile is empty when no element is visible, full
/// when every one is, partial otherwise, checked element by element on random masks and tiles.
@Suite struct TileClassTests {
    static func byDefinition(_ m: AttentionMask, b: Int, h: Int, rows: Range<Int>, keys: Range<Int>, nq: Int, nk: Int)
        -> TileClass
    {
        var visible = 0, total = 0
        for i in rows {
            for j in keys {
                total += 1
                if m.isVisible(batch: b, head: h, row: i, col: j, queries: nq, keys: nk) { visible += 1 }
            }
        }
        return visible == 0 ? .empty : visible == total ? .full : .partial
    }

    @Test("causal 8×8 in tiles of 4: below the diagonal full, above it empty, on it partial")
    func causalTiles() {
        let map = TileMap(mask: .causal(), batch: 1, heads: 1, queries: 8, keys: 8, queryTile: 4, keyTile: 4)
        #expect(map[head: 0, rowTile: 1, keyTile: 0] == .full)
        #expect(map[head: 0, rowTile: 0, keyTile: 1] == .empty)
        #expect(map[head: 0, rowTile: 0, keyTile: 0] == .partial)
        #expect(map.visibleFraction == 0.75)
        let none = TileMap(mask: .none, batch: 2, heads: 3, queries: 5, keys: 9, queryTile: 2, keyTile: 4)
        #expect(none[head: 5, rowTile: 2, keyTile: 2] == .full && none.visibleFraction == 1)
    }

    @Test("classify equals the element-by-element definition (random windows, explicit masks, tiles)")
    func classifyMatchesDefinition() async {
        let bound = Gen.int(in: -1...4)
        await propertyCheck(
            count: 200,
            input: Gen.int(in: 1...9), Gen.int(in: 1...9), bound, bound, Gen.int(in: 0...3), Gen.int(in: 0...Int.max)
        ) { nq, nk, l, r, kind, seed in
            var rng = Xoshiro256StarStar(seed: UInt64(truncatingIfNeeded: seed))
            let window = kind & 1 == 0 ? nil : try! AttentionWindow(left: l < 0 ? nil : l, right: r < 0 ? nil : r)
            // Explicit masks of mostly one value, so that full and empty tiles occur.
            let dense = rng.next() & 1 == 0
            let explicit =
                kind & 2 == 0
                ? nil
                : try! ScoreGrid(
                    shape: [2, nq, nk], values: (0..<2 * nq * nk).map { _ in (rng.next() % 8 == 0) != dense },
                    parameter: .mask)
            let m = AttentionMask(
                alignment: seed & 4 == 0 ? .topLeft : .bottomRight, window: window, explicit: explicit)
            let (qt, kt) = (Int(rng.next() % 4) + 1, Int(rng.next() % 4) + 1)
            let map = TileMap(mask: m, batch: 1, heads: 2, queries: nq, keys: nk, queryTile: qt, keyTile: kt)
            for h in 0..<2 {
                for rt in 0..<map.rowTiles {
                    for ktile in 0..<map.keyTiles {
                        let rows = rt * qt..<min(nq, (rt + 1) * qt), keys = ktile * kt..<min(nk, (ktile + 1) * kt)
                        let want = Self.byDefinition(m, b: 0, h: h, rows: rows, keys: keys, nq: nq, nk: nk)
                        #expect(map[head: h, rowTile: rt, keyTile: ktile] == want, "\(m) \(rows) \(keys) head \(h)")
                    }
                }
            }
        }
    }
}
