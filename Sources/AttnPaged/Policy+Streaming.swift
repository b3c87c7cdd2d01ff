/// StreamingLLM: the first `sinkPages` pages (attention sinks) plus the most
/// recent pages, up to the budget. Older pages are evicted and never recalled.
public struct StreamingPolicy: PagePolicy {
    public let capacity: Int?
    let sinkPages: Int
    public var name: String { "streaming" }

    init(sinkPages: Int, capacity: Int) {
        self.sinkPages = sinkPages
        self.capacity = capacity
    }

    public mutating func makeRoom(store: PagedKVStore) {
        for h in 0..<store.layout.kvHeads where !store.table.hasRoom(head: h) {
            if let oldest = store.table.residentPages(head: h).first(where: { $0 >= sinkPages }) {
                store.evict(page: oldest, head: h)
            }
        }
    }

    public mutating func finishPrefill(store: PagedKVStore, queries: [Float]) {}

    public mutating func select(store: PagedKVStore, queries: [Float]) -> PolicyStep {
        let L = store.layout
        return PolicyStep(
            selection: PageSelection(
                perKVHead: (0..<L.kvHeads).map { store.table.residentPages(head: $0) },
                layout: L))
    }
}
