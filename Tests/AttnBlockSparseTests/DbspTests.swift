import AttnBlockSparse
import AttnCore
import AttnKernels
import AttnTestSupport
import PropertyBased
import Testing

@Suite struct DbspTests {
    /// Degrees (U, R) with U | heads.
    static let degrees: [(Int, Int)] = [(1, 1), (2, 1), (4, 1), (1, 2), (2, 2), (1, 3), (2, 3), (4, 2)]

    @Test func permutedExecutionIsBitwiseTheUnpartitionedResult() async throws {
        await propertyCheck(
            count: 16, input: Gen.int(in: 0..<Self.degrees.count), Gen.int(in: 3...9),
            Gen.int(in: 0...1_000_000)
        ) { which, blocks, seed in
            let (U, R) = Self.degrees[which]
            let b = 6, n = blocks * b - seed % b  // a short last block now and then
            let (q, k, v) = randomQKV(heads: 4, nq: n, nk: n, d: 8, dv: 8, bound: 2, seed: seed, as: Float.self)
            let mask = randomMask(
                heads: 4, qTiles: blocks, kTiles: blocks, density: 0.15 + 0.6 * Double(seed % 5) / 5,
                seed: seed)
            let tiles = TileSizes(queryTile: b, keyTile: b)
            let single = try BlockSparseAttention.compute(q: q, k: k, v: v, scale: .standard, mask: mask, tiles: tiles)
            for plan in [
                DbspPlan.contiguous(mask: mask, ulysses: U, ring: R),
                DbspPlanner.greedyPlan(mask: mask, ulysses: U, ring: R, reward: 2),
                try DbspPlanner.balancedPlan(mask: mask, ulysses: U, ring: R),
            ] {
                let (o, ranks) = try DbspExecution.run(
                    q: q, k: k, v: v, scale: .standard, mask: mask, blockSize: b, plan: plan)
                #expect(o.storage == single.output.storage, "plan \(plan.method) U=\(U) R=\(R)")
                #expect(ranks.reduce(0) { $0 + $1.tiles } == mask.computedCount)
                // Each device's work at ring step t is the load S[k, i, (i+t) mod R] of the plan.
                let S = plan.loads(mask)
                for r in ranks {
                    for t in 0..<R {
                        #expect(r.tilesPerStep[t] == S[(r.ulyssesIndex * R + r.ringIndex) * R + (r.ringIndex + t) % R])
                    }
                }
            }
        }
    }

    @Test func balancedPlanNeverWorseThanContiguous() async throws {
        await propertyCheck(
            count: 40, input: Gen.int(in: 0..<Self.degrees.count), Gen.int(in: 3...12),
            Gen.int(in: 0...1_000_000)
        ) { which, blocks, seed in
            let (U, R) = Self.degrees[which]
            // Head-varying density: head h has density ~ (h+1)/8.
            var mask = TileMask(heads: 8, qTiles: blocks, kTiles: blocks, filled: false)
            var rng = Xoshiro256StarStar(seed: UInt64(seed))
            for h in 0..<8 {
                for i in 0..<blocks {
                    for j in 0..<blocks where rng.nextUnit() < Double(h + 1) / 8 { mask[h, i, j] = true }
                }
            }
            let plan = try DbspPlanner.balancedPlan(mask: mask, ulysses: U, ring: R)
            let contiguous = DbspPlan.contiguous(mask: mask, ulysses: U, ring: R).imbalance(mask)
            let balanced = plan.imbalance(mask)
            #expect(balanced <= contiguous)
            #expect(balanced >= 1 - 1e-12)
            #expect(plan.loads(mask).reduce(0, +) == mask.computedCount)
            // Orders are permutations; every head group holds H/U heads.
            #expect(
                plan.headOrder.sorted() == Array(0..<8) && plan.rowOrder.sorted() == Array(0..<blocks)
                    && plan.colOrder.sorted() == Array(0..<blocks))
        }
    }

    @Test func imbalanceMatchesHandComputedExample() throws {
        // Two heads, 2×2 blocks; head 0 dense, head 1 one block. U = 2, R = 1: ρ = 4 / 2.5.
        var mask = TileMask(heads: 2, qTiles: 2, kTiles: 2, filled: true)
        mask[1, 0, 1] = false; mask[1, 1, 0] = false; mask[1, 1, 1] = false
        #expect(DbspPlan.contiguous(mask: mask, ulysses: 2, ring: 1).imbalance(mask) == 4 / 2.5)
        // U = 1, R = 2 over the summed heads: S = [[2, 1], [1, 1]]; step 0 max(2, 1), step 1 max(1, 1) → 3 / (5/2).
        #expect(DbspPlan.contiguous(mask: mask, ulysses: 1, ring: 2).imbalance(mask) == 3 / 2.5)
    }

    @Test func headGreedyBalancesLinearDensities() throws {
        // Densities 1/16 … 16/16 over 16 heads, U = 4: contiguous ρ is large, LPT with capacity 4 nearly perfect.
        var mask = TileMask(heads: 16, qTiles: 16, kTiles: 16, filled: false)
        for h in 0..<16 { for i in 0..<16 { for j in 0..<(h + 1) { mask[h, i, (i + j) % 16] = true } } }
        let contiguous = DbspPlan.contiguous(mask: mask, ulysses: 4, ring: 1).imbalance(mask)
        let balanced = try DbspPlanner.balancedPlan(mask: mask, ulysses: 4, ring: 1).imbalance(mask)
        #expect(contiguous >= 1.5)
        #expect(balanced <= 1.1)
    }

    @Test func selectorPicksTheLeastModelledLatency() throws {
        let mask = randomMask(heads: 8, qTiles: 8, kTiles: 8, density: 0.3, seed: 5)
        let model = DbspCostModel(
            denseSeconds: 1, launchSeconds: 1e-4, bandwidth: 1e10, latencySeconds: 1e-5,
            tokens: 512, heads: 8, headDim: 64, bytesPerElement: 2)
        let c = try DbspPlanner.select(mask: mask, devices: 8, model: model)
        #expect(c.filter(\.chosen).count == 1)
        let best = c.first(where: \.chosen)!
        #expect(c.allSatisfy { $0.latency.total >= best.latency.total })
        #expect(Set(c.map { $0.ulysses * $0.ring }) == [8])
        #expect(throws: AttnError.self) { try DbspPlanner.select(mask: mask, devices: 128, model: model) }
    }
}
