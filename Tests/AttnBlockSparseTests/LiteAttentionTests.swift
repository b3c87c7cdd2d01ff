import AttnBlockSparse
import AttnCore
import AttnKernels
import Foundation
import PropertyBased
import Testing

@Suite struct LiteAttentionTests {
    let tiles = TileSizes(queryTile: 8, keyTile: 8)

    func trajectory<T: AttnScalar>(seed: Int, steps: Int = 4, as: T.Type = T.self) -> DiffusionTrajectory<T> {
        DiffusionTrajectory<T>(
            shape: VideoShape(frames: 2, height: 4, width: 8), heads: 2, d: 16, steps: steps,
            seed: UInt64(seed), bandwidth: 1.5, signal: 6, noise: 1)
    }

    @Test func minusInfinityThresholdIsExactAttention() async throws {
        await propertyCheck(count: 8, input: Gen.int(in: 0...1_000_000)) { seed in
            var source = trajectory(seed: seed, as: Float.self)
            var state = LiteSkipState()
            let config = LiteConfig(threshold: -.infinity, tiles: tiles)
            while let s = try source.next() {
                let (o, stats) = try LiteAttention.step(
                    q: s.q, k: s.k, v: s.v, scale: .standard, config: config, state: &state)
                #expect(stats.newlyMarked == 0 && stats.work.skippedFraction == 0)
                let full = TileMask(heads: 2, qTiles: 8, kTiles: 8)
                let dense = try BlockSparseAttention.compute(
                    q: s.q, k: s.k, v: s.v, scale: .standard, mask: full,
                    tiles: tiles, order: .descending)
                #expect(o.storage == dense.output.storage)
                let exact = try ReferenceAttention.compute(q: s.q, k: s.k, v: s.v, scale: .standard)
                let bound = zip(
                    ForwardErrorBound.tiled(q: s.q, k: s.k, v: s.v, scale: .standard, tiles: tiles),
                    ForwardErrorBound.reference(q: s.q, k: s.k, v: s.v, scale: .standard)
                ).map { $0 + $1 }
                #expect(withinRowBounds(o, exact, bound))
            }
        }
    }

    /// Proofs/lite-skip-rule.md: a tile marked at step t has, in every row,
    /// exact softmax weight (over all keys, at step t) ≤ cols·2^thr/ℓ, where ℓ ≥ 1 is the
    /// running sum of exp(score − running max) over the tiles visited before it (descending
    /// order over the compute set). ℓ is recomputed here from the reference weights.
    @Test func markedTilesCarryLittleWeightAtTheDecidingStep() async throws {
        await propertyCheck(count: 10, input: Gen.double(in: -12 ... -0.5), Gen.int(in: 0...1_000_000)) { thr, seed in
            var source = trajectory(seed: seed, as: Double.self)
            var state = LiteSkipState()
            let config = LiteConfig(threshold: thr, tiles: tiles)
            while let s = try source.next() {
                let before = state.computeMask
                _ = try LiteAttention.step(q: s.q, k: s.k, v: s.v, scale: .standard, config: config, state: &state)
                let after = state.computeMask
                let w = try ReferenceAttention.weights(q: s.q, k: s.k, scale: .standard)
                for h in 0..<2 {
                    for qt in 0..<after.qTiles {
                        let visited = (0..<after.kTiles).filter { before.bits.isEmpty || before[h, qt, $0] }.reversed()
                        for kt in 0..<after.kTiles where (before.bits.isEmpty || before[h, qt, kt]) && !after[h, qt, kt]
                        {
                            let earlier = visited.filter { $0 > kt }.flatMap { t in (t * 8)..<(t * 8 + 8) }
                            for r in (qt * 8)..<(qt * 8 + 8) {
                                let mass = (kt * 8..<kt * 8 + 8).reduce(0.0) { $0 + w[h, r, $1] }
                                // ℓ = Σ_{earlier} e^{x − M} = Σ w / max w over the earlier keys.
                                let top = earlier.map { w[h, r, $0] }.max() ?? 0
                                let ell = top > 0 ? earlier.reduce(0.0) { $0 + w[h, r, $1] } / top : 1
                                let allowed =
                                    Double(tiles.keyTile) * Foundation.pow(2, thr) / Swift.max(1, ell) * (1 + 1e-9)
                                #expect(ell >= 1 - 1e-12)
                                #expect(
                                    mass <= allowed,
                                    "head \(h) q-tile \(qt) k-tile \(kt) row \(r): \(mass) > \(allowed) (ℓ = \(ell))")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test func computedSetOnlyShrinksUntilReset() async throws {
        await propertyCheck(count: 8, input: Gen.double(in: -8...2), Gen.int(in: 0...1_000_000)) { thr, seed in
            var source = trajectory(seed: seed, steps: 5, as: Float.self)
            var state = LiteSkipState()
            let config = LiteConfig(threshold: thr, tiles: tiles)
            var previous: TileMask?
            while let s = try source.next() {
                let read = state.bitsOrFull(heads: 2, qTiles: 8, kTiles: 8)
                let (o, stats) = try LiteAttention.step(
                    q: s.q, k: s.k, v: s.v, scale: .standard, config: config, state: &state)
                // The step computed exactly the read set, in LiteAttention's order.
                let same = try BlockSparseAttention.compute(
                    q: s.q, k: s.k, v: s.v, scale: .standard, mask: read,
                    tiles: tiles, order: .descending)
                #expect(o.storage == same.output.storage)
                #expect(stats.work.computedTiles == read.computedCount)
                let now = state.computeMask
                #expect(zip(now.bits, read.bits).allSatisfy { !$0 || $1 })
                if let p = previous { #expect(zip(read.bits, p.bits).allSatisfy { !$0 || $1 }) }
                previous = read
            }
            state.reset()
            #expect(state.computeMask.bits.allSatisfy { $0 })
        }
    }

    @Test func hugeThresholdKeepsOneTilePerQueryTile() throws {
        var source = trajectory(seed: 7, steps: 3, as: Float.self)
        var state = LiteSkipState()
        let config = LiteConfig(threshold: 1e30, tiles: tiles)
        var t = 0
        while let s = try source.next() {
            let (_, stats) = try LiteAttention.step(
                q: s.q, k: s.k, v: s.v, scale: .standard, config: config, state: &state)
            #expect(stats.work.computedTiles == (t == 0 ? 2 * 8 * 8 : 2 * 8))
            t += 1
        }
        // The survivor is the first tile computed: the last k-tile.
        let m = state.computeMask
        #expect((0..<2).allSatisfy { h in (0..<8).allSatisfy { qt in m[h, qt, 7] && m.computedCount == 16 } })
    }

    @Test func resumingFromACheckpointReproducesTheRun() throws {
        let config = LiteConfig(threshold: -2, tiles: tiles)
        var full = trajectory(seed: 21, steps: 6, as: Float.self)
        var saved: [LiteCheckpoint] = []
        let all = try LiteTrajectoryRun.run(
            &full, scale: .standard, config: config, fingerprint: "x",
            checkpoint: { saved.append($0) })
        var again = trajectory(seed: 21, steps: 6, as: Float.self)
        let resumed = try LiteTrajectoryRun.run(
            &again, scale: .standard, config: config, resume: saved[2], fingerprint: "x")
        func strip(_ r: [LiteStepReport]) -> [LiteStepReport] {
            r.map {
                var x = $0; x.seconds = 0; x.denseSeconds = 0; return x
            }
        }
        #expect(strip(resumed) == strip(all))
        #expect(all.contains { $0.skippedFraction > 0 })  // the skip lists mattered
    }

    @Test func mustDoAndMustSkipRanges() throws {
        var source = trajectory(seed: 11, steps: 3, as: Float.self)
        var state = LiteSkipState()
        // Keys 3..<5 touch k-tile 0 → must-do; keys 8..<16 are exactly k-tile 1 → must-skip.
        let config = LiteConfig(threshold: 1e30, tiles: tiles, mustDo: [3..<5], mustSkip: [8..<16, 20..<22])
        var t = 0
        while let s = try source.next() {
            let (_, stats) = try LiteAttention.step(
                q: s.q, k: s.k, v: s.v, scale: .standard, config: config, state: &state)
            // Step 0: all but k-tile 1; later: the last tile and the must-do tile 0.
            #expect(stats.work.computedTiles == (t == 0 ? 2 * 8 * 7 : 2 * 8 * 2))
            t += 1
        }
        #expect(throws: AttnError.self) {
            var st = LiteSkipState()
            var src = trajectory(seed: 1, steps: 1, as: Float.self)
            let s = try src.next()!
            _ = try LiteAttention.step(
                q: s.q, k: s.k, v: s.v, scale: .standard,
                config: LiteConfig(threshold: -3, tiles: tiles, mustSkip: [0..<64]), state: &st)
        }
    }
}

extension LiteSkipState {
    /// The read set, or the full mask before the first step (the state has no shape yet).
    func bitsOrFull(heads: Int, qTiles: Int, kTiles: Int) -> TileMask {
        computeMask.bits.isEmpty ? TileMask(heads: heads, qTiles: qTiles, kTiles: kTiles) : computeMask
    }
}
