import AttnCore

/// Quest (ICML 2024): nothing is evicted; each query head attends the last page
/// plus the top pages by the aabb (min/max) score, up to the token budget.
/// When the budget covers the sequence every page is attended (unlike Quest's
/// issue #22, which still prunes).
public struct QuestPolicy: PagePolicy {
    public let capacity: Int? = nil
    let budgetPages: Int
    let kind: DigestKind
    let reduction: ScoreReduction
    public var name: String { "quest" }

    init(config: PolicyConfig, budgetPages: Int) {
        self.budgetPages = budgetPages
        kind = config.digest ?? .aabb
        reduction = config.reduction ?? .mean  // one page set per KV group: its budget of pages read, no more
    }

    public mutating func makeRoom(store: PagedKVStore) {}
    public mutating func finishPrefill(store: PagedKVStore, queries: [Float]) {}

    public mutating func select(store: PagedKVStore, queries: [Float]) -> PolicyStep {
        var step = PolicyStep(selection: PageSelection(pages: []))
        step.selection = Self.topPages(
            store: store, queries: queries, budgetPages: budgetPages, kind: kind,
            reduction: reduction, step: &step)
        return step
    }

    /// The last page plus the best `budgetPages − 1` other pages, per query head or per group.
    static func topPages(
        store: PagedKVStore, queries: [Float], budgetPages: Int, kind: DigestKind,
        reduction: ScoreReduction, step: inout PolicyStep
    ) -> PageSelection {
        let L = store.layout
        let n = store.pageCount
        if n <= budgetPages {
            return PageSelection(perKVHead: Array(repeating: Array(0..<n), count: L.kvHeads), layout: L)
        }
        let candidates = Array(0..<(n - 1))
        var pages: [[Int]] = []
        let t0 = Timing.now()
        let scored = DigestScoring.allHeads(
            store: store, queries: queries, pages: candidates, kind: kind, reduction: reduction, keepHeads: true)
        step.scoringSeconds += Timing.now() - t0
        for kv in 0..<L.kvHeads {
            let rows = scored[kv]
            step.pagesScored += candidates.count * L.groupSize
            // One selection per scored row: a group-shared score selects once for all of its query heads.
            let chosen = rows.map { DigestScoring.topIndices($0, k: budgetPages - 1).map { candidates[$0] } + [n - 1] }
            for g in 0..<L.groupSize { pages.append(chosen[chosen.count == 1 ? 0 : g]) }
        }
        return PageSelection(pages: pages)
    }
}
