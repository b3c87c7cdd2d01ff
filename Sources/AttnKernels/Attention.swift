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

/// Attention of a problem as read from files (`AttentionTensors`: 2-D to 4-D, GQA); the output keeps
/// Q's leading axes (`[batch, heads, n_q, d_v]` for 4-D Q), as PyTorch's `scaled_dot_product_attention`
/// returns it. The fast kernel reads each query head's KV head in place (no copy of K and V per query
/// head); the reference gets K and V expanded to one head per query head.
public func attention<T: KernelScalar>(
    _ problem: AttentionTensors<T>, scale: Scale, scoreModel: ScoreModel = .plain,
    kernel: AttentionKernel = .fast
) throws -> Tensor<T> {
    let p = problem
    switch kernel {
    case .fast:
        return try FastAttention.compute(
            q: p.q, k: p.k, v: p.v, scale: scale, scoreModel: scoreModel, checkInputs: !p.checkedFinite
        ).withLeadingAxes(of: p.q)
    case .reference:
        let (k, v) = p.expandedKV
        return try attention(q: p.q, k: k, v: v, scale: scale, scoreModel: scoreModel, kernel: kernel)
            .withLeadingAxes(of: p.q)
    }
}

/// As `attention(_:scale:scoreModel:kernel:)`, with each row's log-sum-exp ln(Σ_j exp(score_ij) + exp(σ))
/// (natural log, sinks included, −∞ for a row with neither), shaped as Q's leading axes × n_q
/// (`[batch, heads, n_q]` for 4-D Q, as FlashAttention's `softmax_lse`). The reference computes it in
/// Float64 and rounds it to `T` once.
public func attentionWithLSE<T: KernelScalar>(
    _ problem: AttentionTensors<T>, scale: Scale, scoreModel: ScoreModel = .plain,
    kernel: AttentionKernel = .fast
) throws -> (output: Tensor<T>, lse: Tensor<T>) {
    let (k, v) = problem.expandedKV, q = problem.q
    let (output, lse) = try kernel.forward(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, lse: true)
    return (output.withLeadingAxes(of: q), lseTensor(lse ?? [], like: q))
}

/// Row log-sum-exps (head-major) shaped as Q's leading axes × n_q: Q [n, d] → [n]; [h, n, d] → [h, n];
/// [b, h, n, d] → [b, h, n].
func lseTensor<T: AttnScalar>(_ lse: [T], like q: Tensor<T>) -> Tensor<T> {
    switch q.logicalRank {
    case 4: Tensor(heads: q.batch, rows: q.headsPerBatch, cols: q.rows, storage: lse, logicalRank: 3)
    case 3: Tensor(rows: q.heads, cols: q.rows, storage: lse, logicalRank: 2)
    default: Tensor(rows: 1, cols: q.rows, storage: lse, logicalRank: 1)
    }
}

extension AttentionKernel {
    /// The kernel's output and, when `lse`, each row's log-sum-exp from the same pass (the reference's in
    /// Float64, rounded to `T` once).
    func forward<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale, scoreModel: ScoreModel, lse: Bool
    ) throws -> (output: Tensor<T>, lse: [T]?) {
        switch self {
        case _ where !lse:
            return (try attention(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, kernel: self), nil)
        case .reference:
            let r = try ReferenceAttention.forward(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel)
            return (r.output.converted(to: T.self), r.lse.map { T($0) })
        case .fast:
            let r = try FastAttention.forward(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel)
            return (r.output, r.lse)
        }
    }
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
        try run(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, lse: false).result
    }

    /// As `run(q:k:v:scale:scoreModel:)`, with the rows' log-sum-exps from the same pass when `lse`.
    func run<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale, scoreModel: ScoreModel, lse wantLSE: Bool
    ) throws -> (result: AttentionResult<T>, lse: [T]?) {
        let (output, lse) = try forward(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, lse: wantLSE)
        switch self {
        case .reference:
            // Rounded once to T after the Float64 pass.
            let b = ForwardErrorBound.reference(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel)
            // |o − x| ≤ u·|x| + τ/2 for the rounding x ↦ o (τ/2: gradual underflow, proof §3′), |x| ≤ |o|/(1 − u);
            // (1 + 4u) covers this sum's own rounding.
            let u = T.unitRoundoff, halfTau = T.self == Double.self ? 0 : Double(T.leastNonzeroMagnitude) / 2
            var values = [Double](repeating: 0, count: b.count)
            for h in 0..<b.heads {
                for i in 0..<b.rows {
                    var oMax = 0.0
                    for c in 0..<output.cols { oMax = max(oMax, abs(Double(output[h, i, c]))) }
                    let r = b[head: h, row: i], gradual = halfTau  // mutation-check: reference-round
                    values[h * b.rows + i] = (r + u * (oMax + r) + gradual) * (1 + 4 * u)
                }
            }
            return (
                AttentionResult(output: output, rowBounds: RowBounds(heads: b.heads, rows: b.rows, values: values)), lse
            )
        case .fast:
            let bounds = ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel)
            return (AttentionResult(output: output, rowBounds: bounds), lse)
        }
    }
}

extension AttentionKernel {
    /// `run(q:k:v:scale:scoreModel:)` on a problem as read from files (GQA expanded): the output keeps Q's
    /// leading axes, with one bound per (head, row).
    /// - Throws: as `attention(_:scale:scoreModel:kernel:)`; `AttnError.infeasible` when an output entry is not
    ///   finite (a Float64 row whose scores or sums leave the Double range; its bound is +∞), so that no
    ///   front end writes a finite bound beside ±∞ (Proofs/online-softmax-error.md §4).
    public func run<T: KernelScalar>(_ problem: AttentionTensors<T>, scale: Scale, scoreModel: ScoreModel = .plain)
        throws -> AttentionResult<T>
    {
        try run(problem, scale: scale, scoreModel: scoreModel, lse: false).result
    }

    /// As `run(_:scale:scoreModel:)`, with each row's log-sum-exp from the same pass when `lse` (shaped as
    /// `attentionWithLSE` returns it; nil otherwise).
    public func run<T: KernelScalar>(_ problem: AttentionTensors<T>, scale: Scale, scoreModel: ScoreModel, lse: Bool)
        throws -> (result: AttentionResult<T>, lse: Tensor<T>?)
    {
        let (k, v) = problem.expandedKV
        let (r, rowLSE) = try run(q: problem.q, k: k, v: v, scale: scale, scoreModel: scoreModel, lse: lse)
        if let i = r.output.storage.firstIndex(where: { !$0.isFinite }) {
            throw AttnError.infeasible(
                "output row \(i / max(1, r.output.cols)) is not finite: its scores or sums exceed the \(T.dtypeName) range (±\(T.greatestFiniteMagnitude))"
            )
        }
        let result = AttentionResult(output: r.output.withLeadingAxes(of: problem.q), rowBounds: r.rowBounds)
        return (result, rowLSE.map { lseTensor($0, like: problem.q) })
    }
}

extension RowBounds {
    /// The bounds as a tensor of Q's leading axes × n_q, one per output row (what `attention --bound-out`
    /// writes): `[n_q]` for a 2-D Q, `[heads, n_q]` for 3-D, `[batch, heads, n_q]` for 4-D.
    public func tensor<T>(like output: Tensor<T>) -> Tensor<Double> {
        switch output.logicalRank {
        case ...2: Tensor(rows: 1, cols: rows * heads, storage: values, logicalRank: 1)
        case 3: Tensor(rows: heads, cols: rows, storage: values, logicalRank: 2)
        default:
            Tensor(heads: output.batch, rows: output.headsPerBatch, cols: rows, storage: values, logicalRank: 3)
        }
    }
}
