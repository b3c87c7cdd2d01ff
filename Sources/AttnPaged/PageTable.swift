/// The logical → physical page map of one sequence, one map per KV head.
///
/// Logical page `p` of head `h` is either *resident* in physical slot
/// `slot(page: p, head: h)` of that head's pool, or lives only in the backup
/// tier. The pool of each head holds at most `capacity` slots (nil: unbounded).
/// `csr()` exports the resident pages in the CSR form of FlashInfer and vLLM.
///
/// Invariants (checked by `consistencyViolation()`, property-tested under random
/// sequences of appends, evictions and recalls):
/// - a slot holds at most one page; free and used slots partition `0..<allocated`;
/// - at most `capacity` slots are ever allocated;
/// - the last page is resident while it is partial (appends write into it).
public struct PageTable: Sendable, Equatable {
    public let heads: Int
    public let pageSize: Int
    public let capacity: Int?
    /// Tokens appended so far (the same for every head).
    public private(set) var tokenCount = 0
    /// `slots[h][p]`: physical slot of logical page p, or −1 when not resident.
    private var slots: [[Int]]
    /// Free slots of each head, used as a stack (the most recently freed first).
    private var freeSlots: [[Int]]
    /// Slots allocated in each head's pool so far.
    public private(set) var allocated: [Int]

    public init(heads: Int, pageSize: Int, capacity: Int?) {
        precondition(heads >= 1 && pageSize >= 1 && (capacity ?? 1) >= 1)
        self.heads = heads
        self.pageSize = pageSize
        self.capacity = capacity
        slots = Array(repeating: [], count: heads)
        freeSlots = Array(repeating: [], count: heads)
        allocated = Array(repeating: 0, count: heads)
    }

    /// Logical pages, the partial last page included.
    public var pageCount: Int { (tokenCount + pageSize - 1) / pageSize }
    /// Pages holding `pageSize` tokens.
    public var fullPageCount: Int { tokenCount / pageSize }
    /// Tokens in the last page (0 when there is none).
    public var lastPageLength: Int { tokenCount == 0 ? 0 : tokenCount - (pageCount - 1) * pageSize }
    /// Tokens in page `p`.
    public func pageLength(_ p: Int) -> Int { p == pageCount - 1 ? lastPageLength : pageSize }
    /// Absolute positions of page `p`.
    public func positions(ofPage p: Int) -> Range<Int> { p * pageSize..<p * pageSize + pageLength(p) }

    /// The slot of page `p` in head `h`'s pool, or nil when it is only in the backup tier.
    public func slot(page p: Int, head h: Int) -> Int? {
        let s = slots[h][p]
        return s >= 0 ? s : nil
    }

    public func isResident(page p: Int, head h: Int) -> Bool { slots[h][p] >= 0 }

    /// Resident pages of head `h`, in logical order.
    public func residentPages(head h: Int) -> [Int] { slots[h].indices.filter { slots[h][$0] >= 0 } }

    public func residentCount(head h: Int) -> Int { allocated[h] - freeSlots[h].count }

    /// True when head `h` can take one more resident page.
    public func hasRoom(head h: Int) -> Bool {
        !freeSlots[h].isEmpty || capacity.map { allocated[h] < $0 } ?? true
    }

    /// True when the next appended token opens a new page (which needs a slot in every head).
    public var nextAppendOpensPage: Bool { tokenCount % pageSize == 0 }

    /// Records one appended token.
    ///
    /// - Returns: for a token that opens a page, the new page's slot in each head
    ///   (`isNewSlot` tells the pool whether to grow); otherwise nil.
    /// - Precondition: when the token opens a page, `hasRoom(head:)` holds for every head.
    public mutating func appendToken() -> [(slot: Int, isNewSlot: Bool)]? {
        defer { tokenCount += 1 }
        guard nextAppendOpensPage else { return nil }
        var out: [(Int, Bool)] = []
        for h in 0..<heads {
            precondition(hasRoom(head: h), "page table: no free slot for a new page in head \(h)")
            let (s, fresh) = takeSlot(head: h)
            slots[h].append(s)
            out.append((s, fresh))
        }
        return out
    }

    /// Evicts page `p` of head `h` to the backup tier.
    ///
    /// - Returns: the freed slot, or nil (and no change) when the page is not
    ///   resident or is the partial last page.
    public mutating func evict(page p: Int, head h: Int) -> Int? {
        guard p >= 0, p < pageCount, slots[h][p] >= 0 else { return nil }
        if p == pageCount - 1 && lastPageLength < pageSize { return nil }
        let s = slots[h][p]
        slots[h][p] = -1
        freeSlots[h].append(s)
        return s
    }

    /// Makes page `p` of head `h` resident again, at its old logical place.
    ///
    /// - Returns: the slot it now occupies, or nil (and no change) when it is
    ///   already resident, does not exist, or there is no room.
    public mutating func recall(page p: Int, head h: Int) -> (slot: Int, isNewSlot: Bool)? {
        guard p >= 0, p < pageCount, slots[h][p] < 0, hasRoom(head: h) else { return nil }
        let (s, fresh) = takeSlot(head: h)
        slots[h][p] = s
        return (s, fresh)
    }

    private mutating func takeSlot(head h: Int) -> (Int, Bool) {
        if let s = freeSlots[h].popLast() { return (s, false) }
        allocated[h] += 1
        return (allocated[h] - 1, true)
    }

    /// The resident pages in CSR form: head h's slots, in logical order, are
    /// `indices[indptr[h] ..< indptr[h+1]]`; the last page holds `lastPageLength` tokens.
    public func csr() -> PageTableCSR {
        var indptr = [0], indices: [Int] = [], logical: [Int] = []
        for h in 0..<heads {
            for (p, s) in slots[h].enumerated() where s >= 0 { indices.append(s); logical.append(p) }
            indptr.append(indices.count)
        }
        return PageTableCSR(indptr: indptr, indices: indices, logicalPages: logical, lastPageLength: lastPageLength)
    }

    /// Describes the first broken invariant, or nil when the table is consistent.
    public func consistencyViolation() -> String? {
        for h in 0..<heads {
            if slots[h].count != pageCount { return "head \(h): \(slots[h].count) entries for \(pageCount) pages" }
            if let c = capacity, allocated[h] > c {
                return "head \(h): \(allocated[h]) slots allocated > capacity \(c)"
            }
            var owner = [Int](repeating: -1, count: allocated[h])
            for (p, s) in slots[h].enumerated() where s >= 0 {
                if s >= allocated[h] { return "head \(h): page \(p) in unallocated slot \(s)" }
                if owner[s] >= 0 { return "head \(h): slot \(s) holds pages \(owner[s]) and \(p)" }
                owner[s] = p
            }
            for s in freeSlots[h] {
                if s < 0 || s >= allocated[h] { return "head \(h): free slot \(s) out of range" }
                if owner[s] >= 0 { return "head \(h): slot \(s) is free but holds page \(owner[s])" }
                owner[s] = -2
            }
            if let s = owner.firstIndex(of: -1) { return "head \(h): slot \(s) is neither used nor free" }
            if lastPageLength > 0 && lastPageLength < pageSize && slots[h][pageCount - 1] < 0 {
                return "head \(h): the partial last page is not resident"
            }
        }
        let c = csr()
        if c.indptr.count != heads + 1 || c.indptr.last != c.indices.count { return "CSR indptr malformed" }
        for h in 0..<heads {
            let pages = Array(c.logicalPages[c.indptr[h]..<c.indptr[h + 1]])
            if pages != residentPages(head: h) { return "head \(h): CSR pages differ from the table" }
            for (i, p) in pages.enumerated() where c.indices[c.indptr[h] + i] != slots[h][p] {
                return "head \(h): CSR slot of page \(p) differs from the table"
            }
        }
        return nil
    }
}

/// Resident pages in the CSR layout of FlashInfer (`kv_indptr`, `kv_indices`,
/// `kv_last_page_len`), one "row" per KV head, plus the logical page of each entry.
public struct PageTableCSR: Sendable, Equatable {
    public let indptr: [Int]
    public let indices: [Int]
    public let logicalPages: [Int]
    public let lastPageLength: Int
}
