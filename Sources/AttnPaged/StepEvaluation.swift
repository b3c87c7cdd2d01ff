import AttnCore
import AttnKernels

/// The yardstick for one decode step: exact attention over every token and the
/// true page importance I(q, page) = max_j q·k_j, both from all keys (this is
/// measurement; the sparse step and its bound never see unselected keys).
///
/// The exact output is recomputed in Double by `ReferenceAttention.decode`, which also bounds
/// its own rounding (`referenceBound`); `AttnPagedTests.EvaluationTests` checks it
/// against `ReferenceAttention`.
public struct StepEvaluation: Sendable {
    /// Per query head: max_c |sparse − exact|, exact computed in Double.
    public let error: [Double]
    /// Per query head: a bound on the Double yardstick's own error (so the true error is
    /// within `error ± referenceBound`).
    public let referenceBound: [Double]
    /// Per query head: |E ∩ R|/|R|, E the *attended* pages, R the true top-|E| pages by
    /// max_j q·k_j (ties: the earlier page). The policy's end result, sinks and windows included;
    /// not ArkVale's metric (that is `recallAt1` / `recallAtK`).
    public let attendedRecall: [Double]
    /// `recallAt1[h][i]`, `recallAtK[h][i]`: ArkVale's recall (`DigestRecall`) of digest
    /// `DigestRecall.digests[i]` for query head h, k = `recallK`.
    public let recallAt1: [[Double]]
    public let recallAtK: [[Double]]

    public static func evaluate(
        store: PagedKVStore, queries: [Float], selection: PageSelection, output: [Float],
        scale: Scale, recallK: Int = 1
    ) -> StepEvaluation {
        let L = store.layout
        let (d, dv, n, P) = (L.d, L.dv, store.tokenCount, L.pageSize)
        let s = scale.value(d: d)
        var error: [Double] = [], refBound: [Double] = [], accuracy: [Double] = []
        var at1: [[Double]] = [], atK: [[Double]] = []
        for kv in 0..<L.kvHeads {
            let (kAll, vAll) = store.allTokens(head: kv)
            kAll.withUnsafeBufferPointer { kb in
                vAll.withUnsafeBufferPointer { vb in
                    for h in kv * L.groupSize..<(kv + 1) * L.groupSize {
                        let q = (0..<d).map { Double(queries[h * d + $0]) }
                        let exact = ReferenceAttention.decode(
                            query: q, s: s, d: d, dv: dv,
                            blocks: [(kb.baseAddress!, vb.baseAddress!, n)])
                        var e = 0.0
                        for c in 0..<dv { e = max(e, abs(Double(output[h * dv + c]) - exact.output[c])) }
                        error.append(e)
                        // A subnormal Double scale has no relative bound (issue 23): the reference's bound is +∞.
                        refBound.append(s >= .leastNormalMagnitude ? (exact.error.max() ?? 0) : .infinity)
                        let importance = DigestRecall.importance(
                            keys: kb.baseAddress!, tokens: n, d: d, pageSize: P, query: q)
                        let qf = Array(queries[h * d..<(h + 1) * d])
                        let r = DigestRecall.digests.map {
                            DigestRecall.measure(
                                store: store, head: h, query: qf, importance: importance, kind: $0, k: recallK)
                        }
                        at1.append(r.map(\.at1))
                        atK.append(r.map(\.atK))
                        let k = selection.pages[h].count
                        let top = Set(
                            importance.indices.sorted {
                                importance[$0] != importance[$1] ? importance[$0] > importance[$1] : $0 < $1
                            }.prefix(k))
                        accuracy.append(
                            Double(selection.pages[h].filter(top.contains).count) / Double(max(1, top.count)))
                    }
                }
            }
        }
        return StepEvaluation(
            error: error, referenceBound: refBound, attendedRecall: accuracy, recallAt1: at1, recallAtK: atK)
    }
}
