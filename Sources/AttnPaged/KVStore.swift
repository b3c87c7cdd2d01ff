import AttnCore

/// Traffic between the resident pool and the backup tier (external memory).
public struct TierCounters: Sendable, Equatable {
    public var pagesEvicted = 0
    public var pagesRecalled = 0
    public var bytesEvicted = 0
    public var bytesRecalled = 0
    public init() {}

    public static func - (a: TierCounters, b: TierCounters) -> TierCounters {
        var r = TierCounters()
        r.pagesEvicted = a.pagesEvicted - b.pagesEvicted
        r.pagesRecalled = a.pagesRecalled - b.pagesRecalled
        r.bytesEvicted = a.bytesEvicted - b.bytesEvicted
        r.bytesRecalled = a.bytesRecalled - b.bytesRecalled
        return r
    }
}

/// The paged KV cache of one sequence: a resident pool per KV head (at most
/// `capacity` pages, addressed through `table`), a backup tier holding every
/// token ever appended (ArkVale backs every page up), digests of every full page,
/// and counters of the traffic between the tiers.
///
/// Postconditions: after any sequence of `append`, `evict`, `recall`, each
/// resident page's slot holds exactly the backup tier's rows for that page
/// (`residentDataMatchesBackup`), and `table.consistencyViolation()` is nil.
public final class PagedKVStore {
    public let layout: KVLayout
    public private(set) var table: PageTable
    public private(set) var counters = TierCounters()
    /// Per KV head, digests of the full pages.
    public private(set) var digests: [PageDigests]
    var pools: [PagePool]
    /// Per KV head, all tokens in position order: the backup tier.
    private(set) var backupKeys: [[Float]]
    private(set) var backupValues: [[Float]]

    /// - Parameter capacity: resident pages per KV head (nil: unbounded, nothing is ever evicted
    ///   for lack of room).
    public init(layout: KVLayout, capacity: Int?) {
        self.layout = layout
        table = PageTable(heads: layout.kvHeads, pageSize: layout.pageSize, capacity: capacity)
        digests = Array(repeating: PageDigests(d: layout.d, dv: layout.dv), count: layout.kvHeads)
        pools = (0..<layout.kvHeads).map { _ in
            PagePool(pageSize: layout.pageSize, d: layout.d, dv: layout.dv, initialSlots: capacity ?? 16)
        }
        backupKeys = Array(repeating: [], count: layout.kvHeads)
        backupValues = Array(repeating: [], count: layout.kvHeads)
    }

    public var tokenCount: Int { table.tokenCount }
    public var pageCount: Int { table.pageCount }
    public var fullPageCount: Int { table.fullPageCount }

    /// Reserves backup space for `tokens` more tokens (avoids regrowth on long prefills).
    public func reserve(tokens: Int) {
        for h in 0..<layout.kvHeads {
            backupKeys[h].reserveCapacity(backupKeys[h].count + tokens * layout.d)
            backupValues[h].reserveCapacity(backupValues[h].count + tokens * layout.dv)
        }
    }

    /// Appends one token: `keys` holds kvHeads × d entries, `values` kvHeads × dv.
    ///
    /// - Precondition: if the token opens a page, every head has room (policies
    ///   evict first, see `PagePolicy.makeRoom`).
    public func append(keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        let (d, dv, P) = (layout.d, layout.dv, layout.pageSize)
        let position = table.tokenCount
        if let opened = table.appendToken() {
            for (h, s) in opened.enumerated() where s.isNewSlot { pools[h].ensureSlots(s.slot + 1) }
        }
        let page = position / P, row = position % P
        for h in 0..<layout.kvHeads {
            backupKeys[h].append(contentsOf: UnsafeBufferPointer(start: keys + h * d, count: d))
            backupValues[h].append(contentsOf: UnsafeBufferPointer(start: values + h * dv, count: dv))
            let s = table.slot(page: page, head: h)!
            (pools[h].keyRows(slot: s) + row * d).update(from: keys + h * d, count: d)
            (pools[h].valueRows(slot: s) + row * dv).update(from: values + h * dv, count: dv)
            if row == P - 1 {
                backupKeys[h].withUnsafeBufferPointer { kb in
                    backupValues[h].withUnsafeBufferPointer { vb in
                        digests[h].append(
                            keys: kb.baseAddress! + page * P * d, values: vb.baseAddress! + page * P * dv,
                            rows: P)
                    }
                }
            }
        }
    }

    /// Array convenience for `append(keys:values:)`.
    public func append(keys: [Float], values: [Float]) {
        precondition(keys.count == layout.kvHeads * layout.d && values.count == layout.kvHeads * layout.dv)
        keys.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in
                append(keys: k.baseAddress!, values: v.baseAddress!)
            }
        }
    }

    public func isResident(page p: Int, head h: Int) -> Bool { table.isResident(page: p, head: h) }

    /// Moves page `p` of head `h` to the backup tier (counted as written back).
    /// Returns false, changing nothing, when it is not resident or is the partial last page.
    @discardableResult
    public func evict(page p: Int, head h: Int) -> Bool {
        guard table.evict(page: p, head: h) != nil else { return false }
        counters.pagesEvicted += 1
        counters.bytesEvicted += layout.pageBytes
        return true
    }

    /// Copies page `p` of head `h` back from the backup tier into a free slot,
    /// at its old logical place. Returns false, changing nothing, when it is
    /// resident already, does not exist, or the head has no room.
    @discardableResult
    public func recall(page p: Int, head h: Int) -> Bool {
        guard let (s, fresh) = table.recall(page: p, head: h) else { return false }
        if fresh { pools[h].ensureSlots(s + 1) }
        let (d, dv, P) = (layout.d, layout.dv, layout.pageSize)
        let n = table.pageLength(p)
        backupKeys[h].withUnsafeBufferPointer {
            pools[h].keyRows(slot: s).update(from: $0.baseAddress! + p * P * d, count: n * d)
        }
        backupValues[h].withUnsafeBufferPointer {
            pools[h].valueRows(slot: s).update(from: $0.baseAddress! + p * P * dv, count: n * dv)
        }
        counters.pagesRecalled += 1
        counters.bytesRecalled += layout.pageBytes
        return true
    }

    /// Keys of page `p`, head `h`, read from the resident slot (nil when not resident).
    func residentKeys(page p: Int, head h: Int) -> UnsafePointer<Float>? {
        table.slot(page: p, head: h).map { UnsafePointer(pools[h].keyRows(slot: $0)) }
    }

    func residentValues(page p: Int, head h: Int) -> UnsafePointer<Float>? {
        table.slot(page: p, head: h).map { UnsafePointer(pools[h].valueRows(slot: $0)) }
    }

    /// Every token of head `h` (the backup tier), as `tokenCount × d` keys and `tokenCount × dv`
    /// values. For measurement (the exact yardstick), never for the sparse step or its bound.
    public func allTokens(head h: Int) -> (keys: [Float], values: [Float]) { (backupKeys[h], backupValues[h]) }

    /// True when every resident slot holds the backup tier's rows of its page.
    public func residentDataMatchesBackup() -> Bool {
        let (d, dv, P) = (layout.d, layout.dv, layout.pageSize)
        for h in 0..<layout.kvHeads {
            for p in table.residentPages(head: h) {
                let n = table.pageLength(p), s = table.slot(page: p, head: h)!
                let k = pools[h].keyRows(slot: s), v = pools[h].valueRows(slot: s)
                for i in 0..<(n * d) where k[i] != backupKeys[h][p * P * d + i] { return false }
                for i in 0..<(n * dv) where v[i] != backupValues[h][p * P * dv + i] { return false }
            }
        }
        return true
    }
}
