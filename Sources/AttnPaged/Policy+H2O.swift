/// H2O (heavy-hitter oracle), at page granularity: keep the most recent pages
/// (a share of the budget) and the pages with the largest accumulated attention
/// mass; when a slot is needed, evict the non-recent resident page with the least
/// mass, permanently (no recall). Masses accumulate from every attended step;
/// `PagedDecoder.prefill` also feeds the last prompt token's masses.
public struct H2OPolicy: PagePolicy {
    public let capacity: Int?
    let recent: Int
    /// Accumulated mass per KV head per logical page.
    var accumulated: [[Double]] = []
    public var name: String { "h2o" }
    public var wantsPageMass: Bool { true }

    init(capacity: Int, recentShare: Double) {
        self.capacity = capacity
        recent = Swift.min(capacity - 1, Swift.max(1, Int((Double(capacity) * recentShare).rounded())))
    }

    public mutating func makeRoom(store: PagedKVStore) {
        let n = store.pageCount
        for h in 0..<store.layout.kvHeads where !store.table.hasRoom(head: h) {
            let acc = accumulated.indices.contains(h) ? accumulated[h] : []
            let mass = { (p: Int) in p < acc.count ? acc[p] : 0 }
            let candidates = store.table.residentPages(head: h).filter { $0 < n + 1 - recent }
            if let victim = candidates.min(by: { (mass($0), $0) < (mass($1), $1) }) {
                store.evict(page: victim, head: h)
            }
        }
    }

    public mutating func select(store: PagedKVStore, queries: [Float]) -> PolicyStep {
        let L = store.layout
        return PolicyStep(
            selection: PageSelection(
                perKVHead: (0..<L.kvHeads).map { store.table.residentPages(head: $0) },
                layout: L))
    }

    public mutating func observe(mass: [[Double]]) {
        if accumulated.count < mass.count { accumulated = Array(repeating: [], count: mass.count) }
        for h in mass.indices {
            if accumulated[h].count < mass[h].count {
                accumulated[h] += [Double](repeating: 0, count: mass[h].count - accumulated[h].count)
            }
            for p in mass[h].indices { accumulated[h][p] += mass[h][p] }
        }
    }
}
