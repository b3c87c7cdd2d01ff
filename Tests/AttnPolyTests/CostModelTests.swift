import AttnCore
import AttnKernels
import AttnPoly
import PropertyBased
import Testing

/// The cost model: its crossover computed two ways, and its memory figures
/// following the kernel's tile sizes.
struct CostModelTests {
    /// n* is the first n where the polynomial method's flops fall below exact's.
    @Test func crossoverIsFirstWinningN() async throws {
        await propertyCheck(
            count: 300, input: Gen.int(in: 1...16), Gen.int(in: 1...16), Gen.int(in: 1...100_000),
            Gen.double(in: 1...64)
        ) { d, dv, r, kappa in
            let m = CostModel(expCost: kappa)
            let n = Int(m.crossover(d: d, valueCols: dv, rank: Double(r)))
            #expect(m.polyFlops(n: n, rank: Double(r), valueCols: dv) < m.exactFlops(n: n, d: d, valueCols: dv))
            if n > 1 {
                #expect(
                    m.polyFlops(n: n - 1, rank: Double(r), valueCols: dv) >= m.exactFlops(n: n - 1, d: d, valueCols: dv)
                )
            }
        }
    }

    /// The exact kernel's working memory is counted at the tiles the kernel uses
    /// (`TileSizes.default`, 128 × 256 since the fused kernel), not at a copy of them.
    @Test func exactMemoryFollowsKernelTiles() {
        let m = CostModel()
        let t = TileSizes.default
        #expect(t == TileSizes(queryTile: 128, keyTile: 256))
        for dv in [1, 4, 64, 128] {
            let perWorker = 8 * Double(t.queryTile * t.keyTile + t.queryTile * dv + 2 * t.queryTile)
            #expect(m.exactTiledMemory(valueCols: dv, workers: 1) == perWorker)
            #expect(m.exactTiledMemory(valueCols: dv) == 2 * perWorker)
        }
        let small = TileSizes(queryTile: 64, keyTile: 1024)
        #expect(m.exactTiledMemory(valueCols: 4, workers: 1, tiles: small) == 8 * Double(64 * 1024 + 64 * 4 + 128))
    }
}
