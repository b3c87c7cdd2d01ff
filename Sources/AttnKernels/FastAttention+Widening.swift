import AttnCore

extension FastAttention {
    /// Recomputes every row of a Float32 `out` that is not finite by the Float64 reference on that row's
    /// visible keys, rounded to Float. Finite Float32 inputs give scores below 2¹²⁸·2¹²⁸·d and sums below
    /// n_k·2¹²⁸ in Float64, so the recomputed row is finite: a non-finite fused row (scores beyond
    /// ±FLT_MAX, an accumulator beyond FLT_MAX) becomes the reference's, within the bound
    /// `ForwardErrorBound.fastAttention` gives such rows (Proofs/online-softmax-error.md §4). Float64
    /// outputs are left as they are: their rows that may overflow get a bound of +∞.
    /// Costs one scan of the output when every row is finite.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func widenNonFiniteRows<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale, causal: Bool, out: inout Tensor<T>
    ) throws {
        guard T.self == Float.self, !out.storage.allSatisfy({ $0.isFinite }) else { return }
        let (nq, nk, d, dv) = (q.rows, k.rows, q.cols, v.cols)
        for h in 0..<q.heads {
            for i in 0..<nq where (0..<dv).contains(where: { !out[h, i, $0].isFinite }) {
                let seen = causal ? CausalMask.lastVisibleKey(row: i, queries: nq, keys: nk) + 1 : nk
                let qi = Tensor<T>(heads: 1, rows: 1, cols: d, storage: (0..<d).map { q[h, i, $0] })
                let kh = Tensor<T>(heads: 1, rows: seen, cols: d, storage: (0..<seen * d).map { k[h, $0 / d, $0 % d] })
                let vh = Tensor<T>(heads: 1, rows: seen, cols: dv, storage: (0..<seen * dv).map { v[h, $0 / dv, $0 % dv] })
                let row = try ReferenceAttention.compute(q: qi, k: kh, v: vh, scale: scale)
                for c in 0..<dv { out[h, i, c] = T(row[0, 0, c]) }
            }
        }
    }
}
