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
        for kv in 0..<L.kvHeads {
            let t0 = Timing.now()
            let rows: [[Float]] =
                reduction == .perHead
                ? DigestScoring.perHead(store: store, queries: queries, kv: kv, pages: candidates, kind: kind)
                : [
                    DigestScoring.reduced(
                        store: store, queries: queries, kv: kv, pages: candidates, kind: kind, reduction: reduction)
                ]
            step.scoringSeconds += Timing.now() - t0
            step.pagesScored += candidates.count * L.groupSize
            for g in 0..<L.groupSize {
                let scores = rows[rows.count == 1 ? 0 : g]
                pages.append(DigestScoring.topIndices(scores, k: budgetPages - 1).map { candidates[$0] } + [n - 1])
            }
        }
        return PageSelection(pages: pages)
    }
}
