import AttnCore
import AttnPaged
import PropertyBased
import Testing

@Suite("Page table and KV store")
struct PageTableTests {
    /// Any sequence of appends, evictions and recalls keeps the table consistent,
    /// every resident slot holding its page's backup rows, and the counters equal
    /// to the successful operations.
    @Test func consistentUnderRandomOperations() async {
        await propertyCheck(
            count: 60, input: Gen.int(in: 0...Int(UInt32.max)), Gen.int(in: 1...3), Gen.int(in: 1...5),
            Gen.int(in: 0...6)
        ) { seed, heads, pageSize, extraCapacity in
            var rng = Xoshiro256StarStar(seed: UInt64(seed))
            let layout = try! KVLayout(kvHeads: heads, d: 3, dv: 2, pageSize: pageSize)
            let capacity = extraCapacity == 0 ? nil : 1 + extraCapacity
            let store = PagedKVStore(layout: layout, capacity: capacity)
            var evicted = 0, recalled = 0
            for _ in 0..<200 {
                let op = rng.below(3)
                if op == 0 || store.pageCount == 0 {
                    if store.table.nextAppendOpensPage {
                        // Make room the way a policy would: evict a random resident page of each full head.
                        for h in 0..<heads where !store.table.hasRoom(head: h) {
                            let victims = store.table.residentPages(head: h)
                            #expect(!victims.isEmpty)
                            if store.evict(page: victims[rng.below(victims.count)], head: h) { evicted += 1 }
                        }
                    }
                    store.append(keys: dyadic(&rng, count: heads * 3), values: dyadic(&rng, count: heads * 2))
                } else {
                    let page = rng.below(store.pageCount), h = rng.below(heads)
                    let wasResident = store.isResident(page: page, head: h)
                    if op == 1 {
                        let partialLast = page == store.pageCount - 1 && store.table.lastPageLength < pageSize
                        let ok = store.evict(page: page, head: h)
                        #expect(ok == (wasResident && !partialLast))
                        if ok { evicted += 1 }
                    } else {
                        let room = store.table.hasRoom(head: h)
                        let ok = store.recall(page: page, head: h)
                        #expect(ok == (!wasResident && room))
                        if ok { recalled += 1 }
                    }
                }
                #expect(store.table.consistencyViolation() == nil)
            }
            #expect(store.residentDataMatchesBackup())
            #expect(store.counters.pagesEvicted == evicted && store.counters.pagesRecalled == recalled)
            #expect(store.counters.bytesRecalled == recalled * layout.pageBytes)
            // The CSR export lists exactly the resident pages, in logical order.
            let csr = store.table.csr()
            for h in 0..<heads {
                let pages = Array(csr.logicalPages[csr.indptr[h]..<csr.indptr[h + 1]])
                #expect(pages == store.table.residentPages(head: h))
                #expect(pages.count <= (capacity ?? .max))
            }
            #expect(csr.lastPageLength == store.tokenCount - (store.pageCount - 1) * pageSize)
        }
    }

    /// A recalled page keeps its absolute positions: same tokens, same digest.
    @Test func recallRestoresTheSamePage() {
        let layout = try! KVLayout(kvHeads: 1, d: 2, dv: 1, pageSize: 2)
        let store = PagedKVStore(layout: layout, capacity: 2)
        store.append(keys: [1, 2], values: [10])
        store.append(keys: [3, 4], values: [20])  // page 0 is full
        store.append(keys: [5, 6], values: [30])
        store.append(keys: [7, 8], values: [40])  // page 1 is full; the pool holds pages 0 and 1
        #expect(store.evict(page: 0, head: 0))
        store.append(keys: [9, 9], values: [50])  // page 2 takes page 0's slot
        #expect(!store.recall(page: 0, head: 0))  // no room: the slots hold pages 1 and 2
        #expect(store.evict(page: 1, head: 0))
        #expect(store.recall(page: 0, head: 0))
        #expect(store.table.positions(ofPage: 0) == 0..<2)
        #expect(store.residentDataMatchesBackup())
        #expect(store.digests[0].keyMin.prefix(2) == [1, 2] && store.digests[0].keyMax.prefix(2) == [3, 4])
        #expect(store.counters.pagesEvicted == 2 && store.counters.pagesRecalled == 1)
        #expect(store.table.consistencyViolation() == nil)
    }

    @Test func partialLastPageCannotBeEvicted() {
        let layout = try! KVLayout(kvHeads: 1, d: 1, dv: 1, pageSize: 4)
        let store = PagedKVStore(layout: layout, capacity: nil)
        for i in 0..<6 { store.append(keys: [Float(i)], values: [0]) }
        #expect(!store.evict(page: 1, head: 0))
        #expect(store.evict(page: 0, head: 0))
        #expect(store.table.lastPageLength == 2 && store.fullPageCount == 1 && store.digests[0].count == 1)
    }
}
