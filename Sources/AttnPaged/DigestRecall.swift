/// ArkVale's recall accuracy (NeurIPS 2024, Fig. 7): how well a digest ranks pages.
///
/// For one query q and the full pages of one KV head (the partial last page has no digest),
/// E_k is the top-k pages by the digest's score and R_k the top-k by the true importance
/// I(q, p) = max_{j ∈ p} q·k_j; recall@k = |E_k ∩ R_k| / |R_k|. Ties, in both rankings, go to
/// the lower page index (the rule of `DigestScoring.topIndices`). Unlike `attended_recall`
/// (the attended pages against the true top-|attended|), this measures the digest alone,
/// whatever the policy then does with sinks, windows and residency.
/// Tested by `DigestRecallTests`.
public enum DigestRecall {
    /// Digests compared side by side, in the order of ArkVale's Fig. 7 and of the CSV/JSON columns.
    public static let digests: [DigestKind] = DigestKind.allCases

    /// I(q, p) = max_j q·k_j for every page of a head's `n` tokens (keys `n × d`, row-major), in Double.
    /// Float products are exact in Double, so this is the true ranking up to sums of d terms.
    static func importance(keys: UnsafePointer<Float>, tokens n: Int, d: Int, pageSize P: Int, query q: [Double])
        -> [Double]
    {
        var out = [Double](repeating: -.infinity, count: (n + P - 1) / P)
        for j in 0..<n {
            var dot = 0.0
            for c in 0..<d { dot += q[c] * Double(keys[j * d + c]) }
            out[j / P] = Swift.max(out[j / P], dot)
        }
        return out
    }

    /// Indices of the `k` largest entries, ties to the lower index (as `DigestScoring.topIndices`).
    static func top(_ x: [Double], k: Int) -> Set<Int> {
        Set(x.indices.sorted { x[$0] != x[$1] ? x[$0] > x[$1] : $0 < $1 }.prefix(k))
    }

    /// |E_k ∩ R_k| / |R_k|, with E_k the top-k of `estimate` and R_k the top-k of `truth` (same pages, same order).
    /// k is clamped to the number of pages; with no page it is 1 by convention (nothing to miss).
    public static func recall(estimate: [Float], truth: [Double], k: Int) -> Double {
        precondition(estimate.count == truth.count && k >= 1)
        let kk = Swift.min(k, truth.count)
        if kk == 0 { return 1 }
        let e = Set(DigestScoring.topIndices(estimate, k: kk)), r = top(truth, k: kk)
        return Double(e.intersection(r).count) / Double(r.count)
    }

    /// recall@1 and recall@k of `kind` for query head `h` (query `q`, `d` entries), over the full pages
    /// of its KV head, given the true importance of every page (`importance`, partial page included or not).
    static func measure(
        store: PagedKVStore, head h: Int, query q: [Float], importance: [Double], kind: DigestKind,
        k: Int
    ) -> (at1: Double, atK: Double) {
        let dig = store.digests[store.layout.kvHead(ofQueryHead: h)]
        let scores = dig.scores(kind: kind, query: q)
        let truth = Array(importance.prefix(dig.count))
        return (recall(estimate: scores, truth: truth, k: 1), recall(estimate: scores, truth: truth, k: k))
    }
}
