import AttnCore
import AttnKernels

extension VisiPruner {
    /// Shallow-layer masking: text queries get no attention to vision keys.
    /// Post-softmax, no renormalisation (as VisiPruner's layers < 6):
    ///
    ///   w'_ij = w_ij·[j text] + [j = sink]·Σ_{j' vision} w_ij'   for text queries i,
    ///   w'_ij = w_ij                                               for vision queries.
    ///
    /// With `sink == nil` the vision mass is dropped (VisiPruner's layers 1–5);
    /// with a sink (layer 0: the first vision token) it moves to that key.
    ///
    /// Method: one pass of `FastAttention` with augmented values
    /// [V | V·1_vision | 1_vision]; then Σ_text w·v = O₁ − O₂ and the vision
    /// mass is O₃. So the tile machinery and its error analysis are reused
    /// unchanged; the cost is that of 2·d_v + 1 value columns. FLOPs are
    /// counted for the operator as a GPU kernel would run it: QKᵀ stays
    /// (the softmax denominator needs every score), PV skips text→vision pairs.
    public static func shallow<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        types: TokenTypes, sink: Int?, scoreModel: ScoreModel = .plain,
        threads: Int? = nil
    ) throws -> (output: Tensor<T>, flops: AttentionFlops) {
        try validateAttentionShapes(q: q, k: k, v: v)
        try checkTypes(q, k, types)
        if let sink {
            guard (0..<k.rows).contains(sink) else { throw AttnError.usage(.sink, "\(sink) is outside 0..<\(k.rows)") }
        }
        let (H, n, dv) = (q.heads, k.rows, v.cols)
        let wide = 2 * dv + 1
        var aug = Tensor<T>(heads: H, rows: n, cols: wide)
        for h in 0..<H {
            for j in 0..<n {
                let src = v.offset(head: h, row: j), dst = aug.offset(head: h, row: j)
                for c in 0..<dv { aug[flat: dst + c] = v.storage[src + c] }
                if types.isVision[j] {
                    for c in 0..<dv { aug[flat: dst + dv + c] = v.storage[src + c] }
                    aug[flat: dst + 2 * dv] = 1
                }
            }
        }
        let o = try FastAttention.compute(q: q, k: k, v: aug, scale: scale, scoreModel: scoreModel, threads: threads)
        var out = Tensor<T>(heads: H, rows: q.rows, cols: dv, logicalRank: q.logicalRank)
        for h in 0..<H {
            for i in 0..<q.rows {
                let src = o.offset(head: h, row: i), dst = out.offset(head: h, row: i)
                if types.isVision[i] {
                    for c in 0..<dv { out[flat: dst + c] = o.storage[src + c] }
                    continue
                }
                let mass = o.storage[src + 2 * dv]
                for c in 0..<dv {
                    var x = o.storage[src + c] - o.storage[src + dv + c]
                    if let sink { x += mass * v.storage[v.offset(head: h, row: sink) + c] }
                    out[flat: dst + c] = x
                }
            }
        }
        return (out, shallowFlops(q: q, k: k, v: v, types: types, sink: sink, scoreModel: scoreModel))
    }

    static func shallowFlops<T: AttnScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, types: TokenTypes,
        sink: Int?, scoreModel: ScoreModel
    ) -> AttentionFlops {
        let (n, d, dv) = (k.rows, Double(q.cols), Double(v.cols))
        var pairs = 0.0, textToVision = 0.0, textRows = 0.0
        for i in 0..<q.rows {
            let seen = visible(row: i, nq: q.rows, nk: n, scoreModel: scoreModel)
            pairs += Double(seen)
            if !types.isVision[i] {
                let lost = (0..<seen).reduce(0.0) { $0 + (types.isVision[$1] ? 1 : 0) }
                textToVision += lost
                if lost > 0 { textRows += 1 }  // only rows that lose vision mass pay for the sink
            }
        }
        let H = Double(q.heads)
        let dense = H * 2 * pairs * (d + dv)
        let pruned = dense - H * 2 * dv * textToVision + (sink == nil ? 0 : H * 2 * dv * textRows)
        return AttentionFlops(dense: dense, pruned: pruned)
    }
}
