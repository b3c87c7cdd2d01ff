import AttnCore
import AttnKernels

/// The yardstick for one decode step: exact attention over every token and the
/// true page importance I(q, page) = max_j q·k_j, both from all keys (this is
/// measurement; the sparse step and its bound never see unselected keys).
public struct StepEvaluation: Sendable {
    /// Per query head: max_c |sparse − exact| (exact by `ReferenceAttention`, Float64).
    public let error: [Double]
    /// Per query head: `ForwardErrorBound.reference` of the yardstick itself.
    public let referenceBound: [Double]
    /// Per query head: ArkVale's recall accuracy |E ∩ R|/|R|, E the attended pages,
    /// R the true top-|E| pages by max_j q·k_j (ties: the earlier page).
    public let recallAccuracy: [Double]

    public static func evaluate(store: PagedKVStore, queries: [Float], selection: PageSelection, output: [Float],
                                scale: Scale) throws -> StepEvaluation {
        let L = store.layout
        let (G, d, dv, n) = (L.groupSize, L.d, L.dv, store.tokenCount)
        var kAll: [Float] = [], vAll: [Float] = []
        kAll.reserveCapacity(L.kvHeads * n * d); vAll.reserveCapacity(L.kvHeads * n * dv)
        for h in 0..<L.kvHeads { let t = store.allTokens(head: h); kAll += t.keys; vAll += t.values }
        let K = Tensor(heads: L.kvHeads, rows: n, cols: d, storage: kAll)
        let V = Tensor(heads: L.kvHeads, rows: n, cols: dv, storage: vAll)
        let Q = Tensor(heads: L.kvHeads, rows: G, cols: d, storage: queries)
        let exact = try ReferenceAttention.compute(q: Q, k: K, v: V, scale: scale)
        let refBound = ForwardErrorBound.reference(q: Q, k: K, v: V, scale: scale)
        var error: [Double] = [], accuracy: [Double] = []
        let P = L.pageSize
        for h in 0..<L.queryHeads {
            var e = 0.0
            for c in 0..<dv { e = max(e, abs(Double(output[h * dv + c]) - exact.storage[h * dv + c])) }
            error.append(e)
            let kv = L.kvHead(ofQueryHead: h)
            var importance = [Double](repeating: -.infinity, count: store.pageCount)
            for j in 0..<n {
                var dot = 0.0
                for c in 0..<d { dot += Double(queries[h * d + c]) * Double(kAll[(kv * n + j) * d + c]) }
                importance[j / P] = max(importance[j / P], dot)
            }
            let k = selection.pages[h].count
            let top = Set(importance.indices.sorted { importance[$0] != importance[$1] ? importance[$0] > importance[$1] : $0 < $1 }
                .prefix(k))
            accuracy.append(Double(selection.pages[h].filter(top.contains).count) / Double(max(1, top.count)))
        }
        return StepEvaluation(error: error, referenceBound: (0..<L.queryHeads).map { refBound[$0] }, recallAccuracy: accuracy)
    }
}
