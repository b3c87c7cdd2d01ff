import AttnCore

/// The exact-attention kernels by name (the CLI's `--kernel`).
public enum AttentionKernel: String, Sendable, CaseIterable {
    /// `ReferenceAttention`: Float64, O(n²) memory, obviously correct.
    case reference
    /// `FastAttention`: tiled online softmax with BLAS.
    case fast
}

/// One entry point over both kernels: computes `Att(Q,K,V) = D⁻¹AV` with
/// `A = exp(score)`, the scores and mask of `scoreModel`, in precision `T`.
///
/// The reference kernel computes in Float64 whatever `T` is, then rounds once.
public func attention<T: KernelScalar>(
    q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
    scoreModel: ScoreModel = .plain, kernel: AttentionKernel = .fast
) throws -> Tensor<T> {
    switch kernel {
    case .reference:
        return try ReferenceAttention.compute(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel).converted(
            to: T.self)
    case .fast:
        return try FastAttention.compute(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel)
    }
}

/// Attention of a problem as read from files (`AttentionTensors`: 2-D to 4-D, GQA): K and V
/// are expanded to one head per query head, and the output keeps Q's leading axes
/// (`[batch, heads, n_q, d_v]` for 4-D Q), as PyTorch's `scaled_dot_product_attention` returns it.
public func attention<T: KernelScalar>(
    _ problem: AttentionTensors<T>, scale: Scale, scoreModel: ScoreModel = .plain,
    kernel: AttentionKernel = .fast
) throws -> Tensor<T> {
    let (k, v) = problem.expandedKV
    return try attention(q: problem.q, k: k, v: v, scale: scale, scoreModel: scoreModel, kernel: kernel)
        .withLeadingAxes(of: problem.q)
}

extension AttentionKernel {
    /// Exact attention with its a-priori per-row bound (`ForwardErrorBound`):
    /// |output − Att(Q,K,V)| ≤ `rowBounds[head: h, row: i]` entrywise, against
    /// the exact attention of the inputs' exact values.
    /// - Throws: as `attention(q:k:v:scale:scoreModel:kernel:)`.
    public func run<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        scoreModel: ScoreModel = .plain
    ) throws -> AttentionResult<T> {
        // The a-priori bounds cover the mask; the score terms get theirs with the kernels that compute them.
        try scoreModel.requireSupported([], by: "the a-priori error bound")
        let output = try attention(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, kernel: self)
        switch self {
        case .reference:
            // Rounded once to T after the Float64 pass.
            let b = ForwardErrorBound.reference(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel)
            // |o − x| ≤ u·|x| ≤ u·|o|/(1 − u) for the rounding x ↦ o; (1 + 4u) covers this sum's own rounding.
            let u = T.unitRoundoff
            var values = [Double](repeating: 0, count: b.count)
            for h in 0..<b.heads {
                for i in 0..<b.rows {
                    var oMax = 0.0
                    for c in 0..<output.cols { oMax = max(oMax, abs(Double(output[h, i, c]))) }
                    values[h * b.rows + i] = (b[head: h, row: i] + u * (oMax + b[head: h, row: i])) * (1 + 4 * u)
                }
            }
            return AttentionResult(output: output, rowBounds: RowBounds(heads: b.heads, rows: b.rows, values: values))
        case .fast:
            return AttentionResult(
                output: output,
                rowBounds: ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel))
        }
    }
}
