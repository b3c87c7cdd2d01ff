import AttnCore

/// ArkVale (NeurIPS 2024): at most `capacity` pages resident per KV head; sink
/// and window pages always resident; when the sequence has more pages than
/// that, score every other full page by its digest (averaged over the group by
/// default), recall the top-k that were evicted, each overwriting the
/// lowest-scored resident page outside the top-k, and attend either the whole
/// resident set (ArkVale's code) or sink + window + top-k (its paper).
///
/// When a new page needs a slot and the pool is full, the page leaving the
/// window is demoted to the backup tier whatever its score (ArkVale's code).
public struct ArkValePolicy: PagePolicy {
    public let capacity: Int?
    let pagesBudget: Int
    let sink: Int
    let window: Int
    let topk: Int
    let kind: DigestKind
    let reduction: ScoreReduction
    let attendResidentSet: Bool
    /// Last group score of each page, per KV head (for choosing victims); −∞ for a page never scored.
    /// Arrays indexed by page, not dictionaries: ~1000 pages are scored per KV head per step at 32k context.
    var lastScore: [[Float]] = []

    public var name: String { attendResidentSet ? "arkvale" : "arkvale-topk" }

    init(config: PolicyConfig, capacity: Int, topk: Int, attendResidentSet: Bool) {
        self.capacity = capacity
        pagesBudget = capacity
        sink = config.sinkPages
        window = config.windowPages
        self.topk = topk
        kind = config.digest ?? .cuboidMean
        reduction = config.reduction ?? .mean
        self.attendResidentSet = attendResidentSet
    }

    public mutating func makeRoom(store: PagedKVStore) {
        let n = store.pageCount  // the new page will be page n; the window then starts at n + 1 − window
        let leaving = n - window
        for h in 0..<store.layout.kvHeads where !store.table.hasRoom(head: h) {
            if leaving >= sink, store.evict(page: leaving, head: h) { continue }
            // Fallback: the lowest-scored resident page outside sink and the coming window.
            let candidates = store.table.residentPages(head: h).filter { $0 >= sink && $0 < n + 1 - window }
            let score = lastScore.indices.contains(h) ? lastScore[h] : []
            func last(_ p: Int) -> Float { p < score.count ? score[p] : -.infinity }
            if let victim = candidates.min(by: { (last($0), $0) < (last($1), $1) }) {
                store.evict(page: victim, head: h)
            }
        }
    }

    public mutating func select(store: PagedKVStore, queries: [Float]) -> PolicyStep {
        let L = store.layout
        let n = store.pageCount
        if lastScore.isEmpty { lastScore = Array(repeating: [], count: L.kvHeads) }
        var perKV: [[Int]] = []
        var step = PolicyStep(selection: PageSelection(pages: []))
        let candidates = Array(sink..<Swift.max(sink, n - window))
        let scoring = n > pagesBudget && !candidates.isEmpty
        let t0 = Timing.now()
        let scored =
            scoring
            ? DigestScoring.allHeads(
                store: store, queries: queries, pages: candidates, kind: kind, reduction: reduction)
            : []
        step.scoringSeconds += Timing.now() - t0
        for h in 0..<L.kvHeads {
            if !scoring {
                perKV.append(store.table.residentPages(head: h))
                continue
            }
            let scores = scored[h][0]
            step.pagesScored += candidates.count * L.groupSize
            if lastScore[h].count < n { lastScore[h] += repeatElement(-.infinity, count: n - lastScore[h].count) }
            // The candidates are the pages sink..<n − window: their scores are copied in one run.
            lastScore[h].withUnsafeMutableBufferPointer { last in
                scores.withUnsafeBufferPointer {
                    last.baseAddress!.advanced(by: sink).update(from: $0.baseAddress!, count: $0.count)
                }
            }
            let top = DigestScoring.topIndices(scores, k: topk).map { candidates[$0] }
            // Victims: resident candidates outside the top-k, lowest score first; listed only when a recall
            // needs room (most steps recall nothing), from the resident pages (the capacity, ~64) rather than
            // from every candidate (~1000 at 32k context).
            var victims: ArraySlice<Int>?
            for p in top where !store.isResident(page: p, head: h) {
                if !store.table.hasRoom(head: h) {
                    if victims == nil {
                        let topSet = Set(top)
                        victims =
                            store.table.residentPages(head: h)
                            .filter { $0 >= sink && $0 < sink + candidates.count && !topSet.contains($0) }
                            .sorted { a, b in
                                let (x, y) = (scores[a - sink], scores[b - sink])
                                return x != y ? x < y : a < b
                            }[...]
                    }
                    guard let v = victims?.popFirst() else { break }
                    store.evict(page: v, head: h)
                }
                store.recall(page: p, head: h)
            }
            if attendResidentSet {
                perKV.append(store.table.residentPages(head: h))
            } else {
                let always = Array(0..<Swift.min(sink, n)) + Array(Swift.max(sink, n - window)..<n)
                perKV.append((always + top).sorted())
            }
        }
        step.selection = PageSelection(perKVHead: perKV, layout: L)
        return step
    }
}
