import AttnCore
import AttnPaged
import Testing

/// ArkVale's recall@k (`DigestRecall`).
@Suite("digest recall (ArkVale Fig. 7)")
struct DigestRecallTests {
    @Test func definitionOnSmallRankings() {
        let truth: [Double] = [0.5, 3, 1, 2]
        #expect(DigestRecall.recall(estimate: [0.5, 3, 1, 2], truth: truth, k: 1) == 1)
        #expect(DigestRecall.recall(estimate: [9, 0, 0, 0], truth: truth, k: 1) == 0)
        #expect(DigestRecall.recall(estimate: [9, 0, 0, 8], truth: truth, k: 2) == 0.5)  // E = {0, 3}, R = {1, 3}
        #expect(DigestRecall.recall(estimate: [1, 1, 1, 1], truth: [1, 1, 1, 1], k: 2) == 1)  // ties: {0, 1} both sides
        #expect(DigestRecall.recall(estimate: [1, 1, 1, 1], truth: [0, 0, 1, 1], k: 2) == 0)
        #expect(DigestRecall.recall(estimate: [2, 1], truth: [1, 2], k: 5) == 1)  // k clamped to the pages
    }

    /// Pages of one token: the aabb and cuboid-mean boxes are the key itself and the centroid is the key,
    /// so their scores are exactly q·k and their recall is 1; pages with one sharp key among diffuse ones
    /// fool the centroid, not the box.
    @Test func exactDigestsRecallEverythingAndTheCentroidMissesSharpKeys() throws {
        var rng = Xoshiro256StarStar(seed: 3)
        let L = try KVLayout(kvHeads: 1, groupSize: 1, d: 8, dv: 2, pageSize: 1)
        let store = PagedKVStore(layout: L, capacity: nil)
        for _ in 0..<64 { store.append(keys: dyadic(&rng, count: 8), values: [0, 0]) }
        let q = dyadic(&rng, count: 8)
        let sel = PageSelection(pages: [Array(0..<64)])
        let ev = StepEvaluation.evaluate(
            store: store, queries: q, selection: sel, output: [0, 0], scale: .standard, recallK: 8)
        for kind in [DigestKind.aabb, .cuboidMean, .centroid] {
            let i = DigestRecall.digests.firstIndex(of: kind)!
            #expect(ev.recallAt1[0][i] == 1 && ev.recallAtK[0][i] == 1, "\(kind)")
        }

        // Page 0: one key aligned with q, three opposite; page 1: four keys mildly aligned.
        let L4 = try KVLayout(kvHeads: 1, groupSize: 1, d: 2, dv: 1, pageSize: 4)
        let s4 = PagedKVStore(layout: L4, capacity: nil)
        for k: [Float] in [[4, 0], [-2, 0], [-2, 0], [-2, 0], [1, 0], [1, 0], [1, 0], [1, 0]] {
            s4.append(keys: k, values: [0])
        }
        let e4 = StepEvaluation.evaluate(
            store: s4, queries: [1, 0], selection: PageSelection(pages: [[0, 1]]), output: [0],
            scale: .standard, recallK: 1)
        #expect(e4.recallAt1[0][DigestRecall.digests.firstIndex(of: .centroid)!] == 0)
        #expect(e4.recallAt1[0][DigestRecall.digests.firstIndex(of: .aabb)!] == 1)
    }
}
