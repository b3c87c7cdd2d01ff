import AttnCore

/// Steady selection (after the CXL-PNM design's "steady-token selection"; its
/// exact criterion is unpublished, so this one stands on its own): Quest-style
/// top pages, nothing evicted, but the previous step's selection is reused for
/// up to `maxReuse` steps while a cheap drift test passes — every query head's
/// query has cosine ≥ `cosine` with the query it was last scored with, and no
/// page has been added since. Reuse costs O(d) per head instead of scoring
/// every page; `PolicyStep.pagesScoringSkipped` counts the scoring saved.
/// The certified bound of each step does not depend on the selection's quality.
public struct SteadyPolicy: PagePolicy {
    public let capacity: Int? = nil
    let budgetPages: Int
    let kind: DigestKind
    let reduction: ScoreReduction
    let maxReuse: Int
    let cosine: Double
    var reference: [Float] = []
    var previous: PageSelection?
    var pageCountAtScoring = 0
    var reused = 0
    public var name: String { "steady" }

    init(config: PolicyConfig, budgetPages: Int) {
        self.budgetPages = budgetPages
        kind = config.digest ?? .aabb
        reduction = config.reduction ?? .mean  // one page set per KV group, as Quest
        maxReuse = config.steadyMaxReuse
        cosine = config.steadyCosine
    }

    public mutating func makeRoom(store: PagedKVStore) {}
    public mutating func finishPrefill(store: PagedKVStore, queries: [Float]) {}

    public mutating func select(store: PagedKVStore, queries: [Float]) -> PolicyStep {
        let L = store.layout
        if let previous, reused < maxReuse, store.pageCount == pageCountAtScoring, drifted(queries, d: L.d) == false {
            reused += 1
            var step = PolicyStep(selection: previous)
            step.pagesScoringSkipped = store.pageCount > budgetPages ? (store.pageCount - 1) * L.queryHeads : 0
            return step
        }
        var step = PolicyStep(selection: PageSelection(pages: []))
        step.selection = QuestPolicy.topPages(
            store: store, queries: queries, budgetPages: budgetPages, kind: kind,
            reduction: reduction, step: &step)
        previous = step.selection
        reference = queries
        pageCountAtScoring = store.pageCount
        reused = 0
        return step
    }

    /// True when some head's query turned by more than the cosine threshold allows.
    func drifted(_ q: [Float], d: Int) -> Bool {
        guard reference.count == q.count else { return true }
        for h in 0..<(q.count / d) {
            var dot = 0.0, a = 0.0, b = 0.0
            for c in 0..<d {
                let x = Double(q[h * d + c]), y = Double(reference[h * d + c])
                dot += x * y; a += x * x; b += y * y
            }
            if a == 0 || b == 0 || dot / (a * b).squareRoot() < cosine { return true }
        }
        return false
    }
}
