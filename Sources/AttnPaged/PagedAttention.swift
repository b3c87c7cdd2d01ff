import AttnCore
import AttnKernels
import CVectorMath
import Foundation

/// The pages each query head attends in one decode step.
///
/// `pages[h]` lists logical pages of query head h's KV head in ascending order;
/// every one must be resident. The heads of a group are computed together (one
/// accumulator with `groupSize` rows; over the masked union of their lists when they differ).
public struct PageSelection: Sendable, Equatable {
    public var pages: [[Int]]
    public init(pages: [[Int]]) { self.pages = pages }

    /// The same pages for every query head of each KV head.
    public init(perKVHead: [[Int]], layout: KVLayout) {
        pages = (0..<layout.queryHeads).map { perKVHead[layout.kvHead(ofQueryHead: $0)] }
    }

    /// Tokens attended by query head `h`.
    public func tokens(head h: Int, table: PageTable) -> Int { pages[h].reduce(0) { $0 + table.pageLength($1) } }
}

/// Sparse decode attention over selected resident pages: for each query head,
/// softmax(s·q·Kᵀ)·V restricted to the tokens of its selected pages.
///
/// When the heads of each group share one page list (every policy's default) and no page masses are
/// wanted, the fused kernel's decode path runs with the pages as key ranges (`attendFused`): each page is
/// read once per group, in place. Otherwise (per-head lists under GQA, H2O's masses):
/// the selected pages are packed, in page order, into score tiles of up to
/// `maxTileTokens` tokens; each tile is absorbed by `OnlineSoftmaxAccumulator`
/// (the shared tile machinery), so the result is the fast kernel's on the
/// selected tokens. Scores are read straight from the pages' slots. The values
/// of a tile whose pages are adjacent in the pool are absorbed in one product;
/// otherwise each page's values are absorbed in place by one small product per
/// page (no gather: copying every page's values first cost more, measured).
/// Overflow-safe for any score magnitude.
public enum PagedAttention {
    /// Longest score tile, in tokens (at least one page).
    public static let maxTileTokens = 512

    /// One selected page's rows in its slot. Holds raw pointers that workers only read.
    struct Segment: @unchecked Sendable {
        let page: Int
        let keys: UnsafePointer<Float>
        let values: UnsafePointer<Float>
        let rows: Int
    }

    /// A score tile: consecutive selected pages, `rows` tokens in all.
    struct Tile: Sendable {
        let segments: [Segment]
        let rows: Int
        /// True when the segments' values are adjacent in memory (no gather needed).
        let contiguous: Bool
    }

    static func tiles(store: PagedKVStore, pages: [Int], kv: Int) -> [Tile] {
        let L = store.layout
        let limit = max(L.pageSize, maxTileTokens / L.pageSize * L.pageSize)
        var out: [Tile] = [], current: [Segment] = [], rows = 0
        func close() {
            guard !current.isEmpty else { return }
            let adjacent = zip(current, current.dropFirst()).allSatisfy { $0.values + $0.rows * L.dv == $1.values }
            out.append(Tile(segments: current, rows: rows, contiguous: adjacent))
            current = []; rows = 0
        }
        for p in pages {
            let n = store.table.pageLength(p)
            if rows + n > limit { close() }
            current.append(
                Segment(
                    page: p, keys: store.residentKeys(page: p, head: kv)!,
                    values: store.residentValues(page: p, head: kv)!, rows: n))
            rows += n
        }
        close()
        return out
    }

    /// scores[i][j] = scale·(q_i·k_j). A decode step has a handful of query rows, where BLAS's
    /// packing costs more than the product: a SIMD dot per (row, key) streams each key once.
    @inline(__always)
    static func scoreTile(
        queries q: UnsafePointer<Float>, rows: Int, keys k: UnsafePointer<Float>, cols: Int, d: Int,
        scale: Float, into out: UnsafeMutablePointer<Float>, ld: Int
    ) {
        if rows > 8 {
            Float.gemm(
                transA: false, transB: true, m: rows, n: cols, k: d, alpha: scale, a: q, lda: d, b: k, ldb: d,
                beta: 0, c: out, ldc: ld)
            return
        }
        for j in 0..<cols {
            let kj = k + j * d
            for i in 0..<rows { out[i * ld + j] = scale * PageDigests.dot(q + i * d, kj, d) }
        }
    }

    /// The union of a group's page lists, ascending, and per union page which heads selected it.
    static func maskedUnion(_ lists: ArraySlice<[Int]>) -> (pages: [Int], masks: [[Bool]]) {
        let union = Array(Set(lists.joined())).sorted(), sets = lists.map(Set.init)
        return (union, union.map { p in sets.map { $0.contains(p) } })
    }

    /// The fused kernel's few-row path (`FastAttention`'s decode) over a group's shared page list: one
    /// job per KV head, the group's query heads as its rows, the pages as key ranges of the head's pool
    /// (adjacent slots merged). Every page is read once for the group, with no gather and no BLAS call per
    /// page. The certified step bound measures this output as any other (`SparseBound`).
    static func attendFused(store: PagedKVStore, queries: [Float], selection: PageSelection, scale: Float, threads: Int)
        -> [Float]
    {
        let L = store.layout
        let (G, d, dv, P) = (L.groupSize, L.d, L.dv, L.pageSize)
        let ranges: [[Int]] = (0..<L.kvHeads).map { kv in
            var r: [Int] = []
            for p in selection.pages[kv * G] {
                let a = store.table.slot(page: p, head: kv)! * P, b = a + store.table.pageLength(p)
                if let last = r.last, last == a { r[r.count - 1] = b } else { r += [a, b] }
            }
            return r
        }
        let pools = store.pools.map { (k: UnsafeSendablePointer($0.keys), v: UnsafeSendablePointer($0.values)) }
        var out = [Float](repeating: 0, count: L.queryHeads * dv)
        let scratchBytes = attnbound_fused_scratch_bytes(G, d, dv, 4)
        queries.withUnsafeBufferPointer { qb in
            out.withUnsafeMutableBufferPointer { ob in
                let qp = UnsafeSendablePointer(mutating: qb.baseAddress!), op = UnsafeSendablePointer(ob.baseAddress!)
                Parallel.forEachJob(L.kvHeads, workers: threads) { worker in
                    let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
                    defer { scratch.deallocate() }
                    while let kv = worker.next() {
                        ranges[kv].withUnsafeBufferPointer { rb in
                            var cj = attnbound_fused_job()
                            cj.q = UnsafeRawPointer(qp.pointer + kv * G * d)
                            cj.k = UnsafeRawPointer(pools[kv].k.pointer)
                            cj.v = UnsafeRawPointer(pools[kv].v.pointer)
                            cj.out = UnsafeMutableRawPointer(op.pointer + kv * G * dv)
                            cj.scratch = scratch
                            (cj.rows, cj.d, cj.dv, cj.scale) = (G, d, dv, Double(scale))
                            cj.in_place = 1
                            cj.key_ranges = rb.baseAddress
                            cj.key_range_count = rb.count / 2
                            attnbound_fused_f32(&cj)
                        }
                    }
                }
            }
        }
        return out
    }

    /// - Parameters:
    ///   - queries: `queryHeads × d`, row-major.
    ///   - pageMass: also return, per KV head, each logical page's attention mass
    ///     (its share of the softmax, summed over the group's query heads; 0 for pages not attended).
    /// - Returns: `queryHeads × dv` outputs, and the masses when asked.
    /// - Precondition: every selected page is resident and every list is non-empty.
    public static func attend(
        store: PagedKVStore, queries: [Float], selection: PageSelection, scale: Float,
        pageMass: Bool = false, threads: Int = ProcessInfo.processInfo.activeProcessorCount
    )
        -> (output: [Float], mass: [[Double]]?)
    {
        let L = store.layout
        let (G, d, dv) = (L.groupSize, L.d, L.dv)
        precondition(queries.count == L.queryHeads * d && selection.pages.count == L.queryHeads)
        precondition(selection.pages.allSatisfy { !$0.isEmpty }, "empty page selection")
        // One page list per group (every policy's default) and no masses wanted: the fused kernel.
        let shared = (0..<L.kvHeads).allSatisfy { kv in
            (kv * G..<(kv + 1) * G).allSatisfy { selection.pages[$0] == selection.pages[kv * G] }
        }
        if shared && !pageMass {
            return (
                attendFused(store: store, queries: queries, selection: selection, scale: scale, threads: threads), nil
            )
        }
        // The heads of a group run as rows of one accumulator. When their page lists differ (Quest per
        // head under GQA) it runs over the union of the lists, each row masked to its own pages (score −∞,
        // weight 0): every page is read once per group. A decode step is memory-bound (bench paged: time
        // tracks distinct pages read), so the extra dot products of masked rows cost less than re-reading
        // shared pages head by head; with disjoint lists the bytes read are the same either way.
        var batches: [(first: Int, rows: Int, tiles: [Tile], masks: [[Bool]]?)] = []
        for kv in 0..<L.kvHeads {
            let h0 = kv * G
            for h in h0..<h0 + G {
                precondition(!selection.pages[h].isEmpty, "empty page selection for query head \(h)")
            }
            if (h0..<h0 + G).allSatisfy({ selection.pages[$0] == selection.pages[h0] }) {
                batches.append((h0, G, tiles(store: store, pages: selection.pages[h0], kv: kv), nil))
            } else {
                let (union, masks) = maskedUnion(selection.pages[h0..<h0 + G])
                batches.append((h0, G, tiles(store: store, pages: union, kv: kv), masks))
            }
        }
        let tile = max(L.pageSize, maxTileTokens / L.pageSize * L.pageSize)
        let pageCount = store.pageCount
        var out = [Float](repeating: 0, count: L.queryHeads * dv)
        var mass = [Double](repeating: 0, count: pageMass ? L.queryHeads * pageCount : 0)
        let work = batches
        BLASThreads.withSingleThreadedBLAS {
            queries.withUnsafeBufferPointer { qb in
                out.withUnsafeMutableBufferPointer { ob in
                    mass.withUnsafeMutableBufferPointer { mb in
                        let qp = UnsafeSendablePointer(mutating: qb.baseAddress!),
                            op = UnsafeSendablePointer(ob.baseAddress!)
                        let mp = pageMass ? UnsafeSendablePointer(mb.baseAddress!) : nil
                        Parallel.forEachJob(work.count, workers: threads) { worker in
                            var scores = [Float](repeating: 0, count: G * tile)
                            while let job = worker.next() {
                                let (first, rows, tiles, masks) = work[job]
                                let acc = OnlineSoftmaxAccumulator<Float>(rows: rows, valueCols: dv)
                                var pageSums: [(page: Int, sum: [Float], max: [Float])] = []
                                var segmentIndex = 0
                                scores.withUnsafeMutableBufferPointer { sb in
                                    let sp = sb.baseAddress!
                                    for t in tiles {
                                        var offset = 0
                                        for seg in t.segments {
                                            scoreTile(
                                                queries: qp.pointer + first * d, rows: rows, keys: seg.keys,
                                                cols: seg.rows, d: d,
                                                scale: scale, into: sp + offset, ld: tile)
                                            if let masks {
                                                // mutation-check: paged-mask (the row regex is the line below)
                                                for i in 0..<rows where !masks[segmentIndex][i] {
                                                    for j in 0..<seg.rows { sp[i * tile + offset + j] = -.infinity }
                                                }
                                            }
                                            segmentIndex += 1
                                            offset += seg.rows
                                        }
                                        if t.contiguous {
                                            acc.absorb(
                                                scores: sp, ldScores: tile, cols: t.rows, values: t.segments[0].values,
                                                ldValues: dv)
                                        } else {
                                            // One small product per page beats copying every page's values first.
                                            acc.absorb(
                                                scores: sp, ldScores: tile,
                                                valueSegments: t.segments.map { ($0.values, $0.rows) }, ldValues: dv)
                                        }
                                        if mp != nil {
                                            var offset = 0
                                            for seg in t.segments {
                                                let sums = (0..<rows).map { i in
                                                    (offset..<offset + seg.rows).reduce(Float(0)) {
                                                        $0 + sp[i * tile + $1]
                                                    }
                                                }
                                                pageSums.append((seg.page, sums, acc.rowMax))
                                                offset += seg.rows
                                            }
                                        }
                                    }
                                }
                                acc.finish(into: op.pointer + first * dv, ldOut: dv)
                                if let mp {
                                    // Weights were exp(score − running max): rescale to the final max and normalise.
                                    for (page, sums, maxAt) in pageSums {
                                        for i in 0..<rows {
                                            mp.pointer[(first + i) * pageCount + page] =
                                                Double(sums[i]) * exp(Double(maxAt[i]) - Double(acc.rowMax[i]))
                                                / Double(acc.rowSum[i])
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let masses: [[Double]]? =
            pageMass
            ? (0..<L.kvHeads).map { kv in
                (0..<pageCount).map { p in (kv * G..<(kv + 1) * G).reduce(0.0) { $0 + mass[$1 * pageCount + p] } }
            } : nil
        return (out, masses)
    }
}
