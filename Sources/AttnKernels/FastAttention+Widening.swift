import AttnCore

extension FastAttention {
    /// Recomputes every row of a Float32 `out` that is not finite by the Float64 reference on that row's
    /// visible keys (window and explicit mask), rounded to Float. Finite Float32 inputs give scores below 2¹²⁸·2¹²⁸·d and sums below
    /// n_k·2¹²⁸ in Float64, so the recomputed row is finite: a non-finite fused row (scores beyond
    /// ±FLT_MAX, an accumulator beyond FLT_MAX) becomes the reference's, within the bound
    /// `ForwardErrorBound.fastAttention` gives such rows (Proofs/online-softmax-error.md §4). Float64
    /// outputs are left as they are: their rows that may overflow get a bound of +∞.
    /// Costs one scan of the output when every row is finite.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func widenNonFiniteRows<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale, scoreModel: ScoreModel, out: inout Tensor<T>,
        lse: inout [T]
    ) throws {
        // Masks only: with score terms (softcap, bias, ALiBi, sinks) the bound of a row that may overflow is +∞.
        guard T.self == Float.self, scoreModel.terms.isEmpty, !out.storage.allSatisfy({ $0.isFinite }) else { return }
        let (nq, nk, d, dv) = (q.rows, k.rows, q.cols, v.cols)
        let group = max(1, q.heads / max(1, k.heads))  // GQA: query head h reads KV head h / group
        for h in 0..<q.heads {
            let (b, hh) = q.location(ofHead: h)
            for i in 0..<nq where (0..<dv).contains(where: { !out[h, i, $0].isFinite }) {
                let keys = scoreModel.mask.visibleKeys(row: i, queries: nq, keys: nk).filter {
                    scoreModel.mask.isVisible(batch: b, head: hh, row: i, col: $0, queries: nq, keys: nk)
                }
                let qi = Tensor<T>(rows: 1, cols: d, storage: (0..<d).map { q[h, i, $0] })
                let kh = Tensor<T>(
                    rows: keys.count, cols: d, storage: keys.flatMap { j in (0..<d).map { k[h / group, j, $0] } })
                let vh = Tensor<T>(
                    rows: keys.count, cols: dv, storage: keys.flatMap { j in (0..<dv).map { v[h / group, j, $0] } })
                let row = keys.isEmpty ? nil : try ReferenceAttention.forward(q: qi, k: kh, v: vh, scale: scale)
                for c in 0..<dv { out[h, i, c] = row.map { T($0.output[0, 0, c]) } ?? 0 }  // no visible key: 0
                if !lse.isEmpty { lse[h * nq + i] = row.map { T($0.lse[0]) } ?? -.infinity }
            }
        }
    }
}
