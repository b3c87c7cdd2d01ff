import AttnCore
import AttnKernels

/// Masked references for the VisiPruner operators: `ReferenceAttention.weights`
/// (Float64), an explicit mask applied to the weights, then the product with V.
/// Plain loops, O(n²) memory per head: the yardstick, not a kernel.
public enum VisiPrunerReference {
    /// Shallow masking: text rows lose their vision weights; with a sink the
    /// lost mass is added to the sink's weight. No renormalisation.
    public static func shallow<T: AttnScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        types: TokenTypes, sink: Int?, scoreModel: ScoreModel = .plain
    ) throws -> Tensor<Double> {
        var w = try ReferenceAttention.weights(q: q, k: k, scale: scale, scoreModel: scoreModel, v: v)
        for h in 0..<w.heads {
            for i in 0..<w.rows where !types.isVision[i] {
                var mass = 0.0
                for j in 0..<w.cols where types.isVision[j] { mass += w[h, i, j]; w[h, i, j] = 0 }
                if let sink { w[h, i, sink] += mass }
            }
        }
        return apply(w, v)
    }

    /// Pruning: dropped keys get weight 0 and each kept row is renormalised
    /// (the tokens have left the sequence); dropped query rows are removed.
    public static func pruned<T: AttnScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale, keep: [Bool],
        scoreModel: ScoreModel = .plain
    ) throws -> Tensor<Double> {
        var w = try ReferenceAttention.weights(q: q, k: k, scale: scale, scoreModel: scoreModel, v: v)
        for h in 0..<w.heads {
            for i in 0..<w.rows {
                var sum = 0.0
                for j in 0..<w.cols { if keep[j] { sum += w[h, i, j] } else { w[h, i, j] = 0 } }
                for j in 0..<w.cols { w[h, i, j] /= sum }
            }
        }
        let full = apply(w, v)
        let kept = keep.indices.filter { keep[$0] }
        var out = Tensor<Double>(heads: full.heads, rows: kept.count, cols: full.cols, logicalRank: q.logicalRank)
        for h in 0..<full.heads {
            for (r, i) in kept.enumerated() { for c in 0..<full.cols { out[h, r, c] = full[h, i, c] } }
        }
        return out
    }

    static func apply<T: AttnScalar>(_ w: Tensor<Double>, _ v: Tensor<T>) -> Tensor<Double> {
        var out = Tensor<Double>(heads: w.heads, rows: w.rows, cols: v.cols, logicalRank: v.logicalRank)
        for h in 0..<w.heads {
            for i in 0..<w.rows {
                for j in 0..<w.cols {
                    let a = w[h, i, j]
                    if a == 0 { continue }
                    for c in 0..<v.cols { out[h, i, c] += a * Double(v[h, j, c]) }
                }
            }
        }
        return out
    }
}
