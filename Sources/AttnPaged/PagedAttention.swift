import AttnCore
import AttnKernels
import Foundation

/// The pages each query head attends in one decode step.
///
/// `pages[h]` lists logical pages of query head h's KV head in ascending order;
/// every one must be resident. Heads of a group that share a list are computed
/// together (one accumulator with `groupSize` rows).
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
/// Each page is one score tile absorbed by `OnlineSoftmaxAccumulator` (the
/// shared tile machinery), so the result is the fast kernel's result on the
/// selected tokens in page order. Overflow-safe for any score magnitude.
public enum PagedAttention {
    /// - Parameters:
    ///   - queries: `queryHeads × d`, row-major.
    ///   - pageMass: also return, per KV head, each logical page's attention mass
    ///     (its share of the softmax, summed over the group's query heads; 0 for pages not attended).
    /// - Returns: `queryHeads × dv` outputs, and the masses when asked.
    /// - Precondition: every selected page is resident and every list is non-empty.
    public static func attend(store: PagedKVStore, queries: [Float], selection: PageSelection, scale: Float,
                              pageMass: Bool = false, threads: Int = ProcessInfo.processInfo.activeProcessorCount)
        -> (output: [Float], mass: [[Double]]?) {
        let L = store.layout
        let (G, d, dv, P) = (L.groupSize, L.d, L.dv, L.pageSize)
        precondition(queries.count == L.queryHeads * d && selection.pages.count == L.queryHeads)
        // Resolve pages to slot pointers up front: workers only read raw memory.
        struct PageRef: @unchecked Sendable { let page: Int; let keys: UnsafePointer<Float>; let values: UnsafePointer<Float>; let rows: Int }
        var refs: [[PageRef]] = []
        for h in 0..<L.queryHeads {
            let kv = L.kvHead(ofQueryHead: h)
            precondition(!selection.pages[h].isEmpty, "empty page selection for query head \(h)")
            refs.append(selection.pages[h].map { p in
                PageRef(page: p, keys: store.residentKeys(page: p, head: kv)!, values: store.residentValues(page: p, head: kv)!,
                        rows: store.table.pageLength(p))
            })
        }
        let pageCount = store.pageCount
        var out = [Float](repeating: 0, count: L.queryHeads * dv)
        var mass = [Double](repeating: 0, count: pageMass ? L.kvHeads * pageCount : 0)
        let refsFinal = refs
        BLASThreads.withSingleThreadedBLAS {
            queries.withUnsafeBufferPointer { qb in
            out.withUnsafeMutableBufferPointer { ob in
            mass.withUnsafeMutableBufferPointer { mb in
                let qp = UnsafeSendablePointer(mutating: qb.baseAddress!), op = UnsafeSendablePointer(ob.baseAddress!)
                let mp = pageMass ? UnsafeSendablePointer(mb.baseAddress!) : nil
                Parallel.forEachJob(L.kvHeads, workers: threads) { worker in
                    var scores = [Float](repeating: 0, count: G * P)
                    while let kv = worker.next() {
                        let h0 = kv * G
                        // Heads of the group sharing one page list run as rows of one accumulator.
                        let shared = (h0..<h0 + G).allSatisfy { refsFinal[$0].map(\.page) == refsFinal[h0].map(\.page) }
                        let batches: [(first: Int, rows: Int)] = shared ? [(h0, G)] : (h0..<h0 + G).map { ($0, 1) }
                        for (first, rows) in batches {
                            let acc = OnlineSoftmaxAccumulator<Float>(rows: rows, valueCols: dv)
                            var pageSums: [(page: Int, sum: [Float], max: [Float])] = []
                            scores.withUnsafeMutableBufferPointer { sb in
                                let sp = sb.baseAddress!
                                for r in refsFinal[first] {
                                    Float.gemm(transA: false, transB: true, m: rows, n: r.rows, k: d, alpha: scale,
                                               a: qp.pointer + first * d, lda: d, b: r.keys, ldb: d,
                                               beta: 0, c: sp, ldc: P)
                                    acc.absorb(scores: sp, ldScores: P, cols: r.rows, values: r.values, ldValues: dv)
                                    if mp != nil {
                                        let sums = (0..<rows).map { i in (0..<r.rows).reduce(Float(0)) { $0 + sp[i * P + $1] } }
                                        pageSums.append((r.page, sums, acc.rowMax))
                                    }
                                }
                            }
                            acc.finish(into: op.pointer + first * dv, ldOut: dv)
                            if let mp {
                                // Weights were exp(score − running max); rescale to the final max and sum.
                                for (page, sums, maxAt) in pageSums {
                                    var m = 0.0
                                    for i in 0..<rows {
                                        m += Double(sums[i]) * exp(Double(maxAt[i]) - Double(acc.rowMax[i])) / Double(acc.rowSum[i])
                                    }
                                    mp.pointer[kv * pageCount + page] += m
                                }
                            }
                        }
                    }
                }
            }}}
        }
        let masses: [[Double]]? = pageMass ? (0..<L.kvHeads).map { Array(mass[$0 * pageCount ..< ($0 + 1) * pageCount]) } : nil
        return (out, masses)
    }
}
