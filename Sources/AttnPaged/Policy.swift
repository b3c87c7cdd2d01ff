import AttnCore
import AttnKernels
import Foundation

/// How per-head digest scores are combined over the query heads of a group.
public enum ScoreReduction: String, Sendable, CaseIterable {
    /// One score per query head (Quest's paper); policies whose residency is per KV head use the group max.
    /// Under GQA the kernel reads the union of the group's page sets: up to group × the budget per KV head.
    case perHead = "per-head"
    /// Mean over the group: one page set per KV head, so at most the budget is read (the default of every policy).
    case mean
    /// Max over the group.
    case max
}

/// What one policy decided for one decode step.
public struct PolicyStep: Sendable {
    public var selection: PageSelection
    /// Pages whose digests were scored (summed over KV heads and query heads scored).
    public var pagesScored = 0
    /// Digest scorings skipped by reusing a previous selection (`steady`).
    public var pagesScoringSkipped = 0
    /// Seconds spent scoring digests.
    public var scoringSeconds = 0.0
    public init(selection: PageSelection) { self.selection = selection }
}

/// A decode-step strategy over a `PagedKVStore`: which pages stay resident,
/// which are recalled, which are attended.
///
/// Protocol of use (see `PagedDecoder`): before appending a token that opens a
/// page, `makeRoom` if some head is full; after prefill, `finishPrefill` once;
/// at each decode step, append, then `select`, attend, then `observe`.
public protocol PagePolicy {
    var name: String { get }
    /// Resident pages per KV head (nil: unbounded, nothing evicted).
    var capacity: Int? { get }
    /// True when `observe` needs per-page attention masses.
    var wantsPageMass: Bool { get }
    /// Frees a slot in every full head, before a token that opens a page.
    mutating func makeRoom(store: PagedKVStore)
    /// Called once after the prompt is appended, with the last prompt token's queries.
    mutating func finishPrefill(store: PagedKVStore, queries: [Float])
    /// Chooses this step's pages (all resident on return); may evict and recall.
    mutating func select(store: PagedKVStore, queries: [Float]) -> PolicyStep
    /// Sees the step's per-KV-head page masses (only when `wantsPageMass`).
    mutating func observe(mass: [[Double]])
}

extension PagePolicy {
    public var wantsPageMass: Bool { false }
    public mutating func finishPrefill(store: PagedKVStore, queries: [Float]) {
        _ = select(store: store, queries: queries)
    }
    public mutating func observe(mass: [[Double]]) {}
}

/// Parameters shared by the policies. Budgets count tokens (AttnKit.docc/Conventions.md) and
/// are turned into whole pages.
public struct PolicyConfig: Sendable, Equatable {
    public var budgetTokens: Int
    public var sinkPages = 1
    public var windowPages = 2
    /// ArkVale's top-k (pages); nil: half the budget, as ArkVale's default.
    public var topkPages: Int?
    /// Digest used for selection (nil: the policy's own default).
    public var digest: DigestKind?
    /// Group reduction (nil: the policy's own default).
    public var reduction: ScoreReduction?
    /// `steady`: reuse a selection at most this many steps.
    public var steadyMaxReuse = 4
    /// `steady`: the drift test passes while cos(q, q_ref) ≥ this, for every head.
    public var steadyCosine = 0.95
    /// `h2o`: share of the budget kept as the recent window.
    public var h2oRecentShare = 0.5

    public init(budgetTokens: Int) { self.budgetTokens = budgetTokens }

    public func budgetPages(pageSize: Int) -> Int { budgetTokens / pageSize }
}

/// The policies by name (the CLI's `--policy`).
public enum PolicyKind: String, Sendable, CaseIterable {
    case arkvale
    /// ArkVale as its paper describes it: attend sink + window + top-k only.
    case arkvaleTopk = "arkvale-topk"
    case quest
    case streaming
    case h2o
    case steady

    /// Builds the policy after checking the budget against the layout.
    /// - Throws: `AttnError.usage` naming what does not fit (budget below a page, too small for
    ///   sink + window + top-k, …).
    public func make(config: PolicyConfig, layout: KVLayout) throws -> any PagePolicy {
        let P = layout.pageSize
        guard config.budgetTokens >= P else {
            throw AttnError.usage(.budget, "\(config.budgetTokens) tokens is smaller than one page (page size \(P))")
        }
        let pages = config.budgetPages(pageSize: P)
        guard config.sinkPages >= 0, config.windowPages >= 1 else {
            throw AttnError.usage("sink pages must be ≥ 0 and window pages ≥ 1")
        }
        switch self {
        case .arkvale, .arkvaleTopk:
            let topk = config.topkPages ?? Swift.max(1, pages / 2)
            guard topk >= 1, config.sinkPages + config.windowPages + topk <= pages else {
                throw AttnError.usage(
                    .budget,
                    "\(config.budgetTokens) tokens: \(pages) pages cannot hold \(config.sinkPages) sink + "
                        + "\(config.windowPages) window + \(topk) top-k pages")
            }
            return ArkValePolicy(config: config, capacity: pages, topk: topk, attendResidentSet: self == .arkvale)
        case .quest:
            return QuestPolicy(config: config, budgetPages: pages)
        case .streaming:
            guard config.sinkPages + 1 <= pages else {
                throw AttnError.usage(
                    .budget,
                    "\(config.budgetTokens) tokens: \(pages) pages cannot hold \(config.sinkPages) sink pages and a window"
                )
            }
            return StreamingPolicy(sinkPages: config.sinkPages, capacity: pages)
        case .h2o:
            guard pages >= 2 else {
                throw AttnError.usage(.budget, "\(config.budgetTokens) tokens: h2o needs at least 2 pages")
            }
            return H2OPolicy(capacity: pages, recentShare: config.h2oRecentShare)
        case .steady:
            guard config.steadyMaxReuse >= 1, (-1...1).contains(config.steadyCosine) else {
                throw AttnError.usage("steady: max reuse must be ≥ 1 and the cosine threshold in [-1, 1]")
            }
            return SteadyPolicy(config: config, budgetPages: pages)
        }
    }
}

extension PolicyKind {
    /// The digest the policy ranks pages by: `config.digest`, else cuboid-mean for ArkVale and aabb otherwise.
    public func digest(config: PolicyConfig) -> DigestKind {
        config.digest ?? (self == .arkvale || self == .arkvaleTopk ? .cuboidMean : .aabb)
    }

    /// How many pages the policy picks by digest score (the k of ArkVale's recall@k): ArkVale's top-k
    /// (default half the budget's pages), Quest's budget pages − 1 (the last page is always attended);
    /// the policies that rank no digest (streaming, h2o) report ArkVale's default for comparison.
    public func scoredPages(config: PolicyConfig, pageSize: Int) -> Int {
        let pages = config.budgetPages(pageSize: pageSize)
        switch self {
        case .quest, .steady: return Swift.max(1, pages - 1)
        default: return config.topkPages ?? Swift.max(1, pages / 2)
        }
    }
}

/// Digest scoring shared by the policies.
public enum DigestScoring {
    /// Scores `pages` of KV head `kv` for each query head of its group: `result[g][i]` for `pages[i]`.
    static func perHead(store: PagedKVStore, queries: [Float], kv: Int, pages: [Int], kind: DigestKind) -> [[Float]] {
        let L = store.layout, (G, d) = (L.groupSize, L.d)
        var scores = [Float](repeating: 0, count: G * pages.count)
        queries.withUnsafeBufferPointer { qb in
            let q = qb.baseAddress! + kv * G * d
            let norms = (0..<G).map { g -> Float in
                var nq: Float = 0
                for c in 0..<d { nq += q[g * d + c] * q[g * d + c] }
                return nq.squareRoot()
            }
            pages.withUnsafeBufferPointer { pb in
                scores.withUnsafeMutableBufferPointer {
                    store.digests[kv].scores(
                        kind: kind, queries: q, heads: G, queryNorms: norms, pages: pb, into: $0.baseAddress!,
                        stride: pages.count)
                }
            }
        }
        return (0..<G).map { g in Array(scores[(g * pages.count)..<((g + 1) * pages.count)]) }
    }

    /// The scores of `pages` for every KV head, heads in parallel (scoring only reads the digests):
    /// `result[kv]` is `[reduced(…)]`, or `perHead(…)` when `reduction` is `.perHead` and `keepHeads`.
    /// Why parallel: at 32k context the digests of 8 KV heads are 8 MB, read at one core's memory bandwidth
    /// when scored head after head (half of a group-shared ArkVale or Quest step).
    static func allHeads(
        store: PagedKVStore, queries: [Float], pages: [Int], kind: DigestKind, reduction: ScoreReduction,
        keepHeads: Bool = false
    ) -> [[[Float]]] {
        let heads = store.layout.kvHeads
        var out = [[[Float]]](repeating: [], count: heads)
        let shared = ReadOnlyStore(store)
        out.withUnsafeMutableBufferPointer { ob in
            let results = UnsafeSendablePointer(ob.baseAddress!)
            Parallel.forEachJob(heads, workers: ProcessInfo.processInfo.activeProcessorCount) { worker in
                while let kv = worker.next() {
                    results.pointer[kv] =
                        keepHeads && reduction == .perHead
                        ? perHead(store: shared.store, queries: queries, kv: kv, pages: pages, kind: kind)
                        : [
                            reduced(
                                store: shared.store, queries: queries, kv: kv, pages: pages, kind: kind,
                                reduction: reduction)
                        ]
                }
            }
        }
        return out
    }

    /// The store handed to scoring workers: they only read its digests, and nothing mutates it while they run.
    private struct ReadOnlyStore: @unchecked Sendable {
        let store: PagedKVStore
        init(_ store: PagedKVStore) { self.store = store }
    }

    /// One score per page for the whole group (`perHead` is read as `max`).
    static func reduced(
        store: PagedKVStore, queries: [Float], kv: Int, pages: [Int], kind: DigestKind,
        reduction: ScoreReduction
    ) -> [Float] {
        let rows = perHead(store: store, queries: queries, kv: kv, pages: pages, kind: kind)
        if rows.count == 1 { return rows[0] }
        // Row by row into one array, no temporary array per page:
        // the mean adds the heads in order, from the first, as Σ from 0 would; the max is exact in any order.
        var out = rows[0]
        out.withUnsafeMutableBufferPointer { o in
            for row in rows.dropFirst() {
                row.withUnsafeBufferPointer { r in
                    for i in 0..<o.count { o[i] = reduction == .mean ? o[i] + r[i] : max(o[i], r[i]) }
                }
            }
            if reduction == .mean { for i in 0..<o.count { o[i] /= Float(rows.count) } }
        }
        return out
    }

    /// Indices of the `k` largest scores (ties: the earlier page), in ascending page order of `pages`.
    ///
    /// A radix selection on the scores' bits: each round histograms the candidates' keys over their own range
    /// (at most 2048 bins), keeps the bin that holds the k-th best, and counts the bins above it as chosen; at
    /// most three rounds reach one key, the threshold. Then one pass takes every page above it and the earliest
    /// of those at it. It runs for every head at every decode step, and its branches do not depend on the order
    /// of the scores: a heap of the best k (the earlier way) mispredicted its sift-downs, 12 µs per KV head at
    /// 32k context and k = 63, a tenth of a Quest step.
    public static func topIndices(_ scores: [Float], k: Int) -> [Int] {
        let n = scores.count
        if k >= n { return Array(scores.indices) }
        if k <= 0 { return [] }
        var key = [UInt32](repeating: 0, count: n)
        // The candidates: after each round, the pages of the kept bin, in page order, beside their keys.
        var keptKey = [UInt32](repeating: 0, count: n), keptPage = [Int](repeating: 0, count: n)
        var bins = [Int32](repeating: 0, count: 2048)
        var need = k  // how many of the candidates are still to be chosen
        var (firstTie, lastTie) = (0, 0)
        let threshold = scores.withUnsafeBufferPointer { s in
            key.withUnsafeMutableBufferPointer { key in
                keptKey.withUnsafeMutableBufferPointer { ck in
                    keptPage.withUnsafeMutableBufferPointer { cp in
                        bins.withUnsafeMutableBufferPointer { b in
                            for i in 0..<n {
                                key[i] = orderKey(s[i])
                                ck[i] = key[i]
                                cp[i] = i
                            }
                            var count = n
                            while true {
                                var lo = UInt32.max, hi = UInt32.min
                                for i in 0..<count { lo = min(lo, ck[i]); hi = max(hi, ck[i]) }
                                if lo == hi { break }  // every candidate has the threshold's key
                                let shift = max(0, 32 - (hi - lo).leadingZeroBitCount - 11)
                                let top = Int((hi - lo) >> shift)
                                for j in 0...top { b[j] = 0 }
                                for i in 0..<count { b[Int((ck[i] - lo) >> shift)] += 1 }
                                var bin = top
                                while Int(b[bin]) < need { need -= Int(b[bin]); bin -= 1 }  // those above: chosen
                                var m = 0
                                for i in 0..<count where Int((ck[i] - lo) >> shift) == bin {
                                    ck[m] = ck[i]
                                    cp[m] = cp[i]
                                    m += 1
                                }
                                count = m
                            }
                            // Ties at the threshold: the earlier pages win (the candidates are in page order).
                            (firstTie, lastTie) = (cp[0], cp[need - 1])  // mutation-check: paged-ties
                            return ck[0]
                        }
                    }
                }
            }
        }
        var out = [Int]()
        out.reserveCapacity(k)
        key.withUnsafeBufferPointer { key in
            for i in 0..<n where key[i] > threshold || (key[i] == threshold && firstTie <= i && i <= lastTie) {
                out.append(i)
            }
        }
        return out
    }

    /// A key that orders like the score: x > y exactly when key(x) > key(y). −0 has +0's key (the scores are
    /// equal), and NaN the least key, below −∞: a NaN score never wins a page while a number does.
    @inline(__always) static func orderKey(_ x: Float) -> UInt32 {
        if x.isNaN { return 0 }
        let b = (x + 0).bitPattern  // −0 + 0 = +0
        return b >> 31 == 0 ? b | 0x8000_0000 : ~b
    }
}
