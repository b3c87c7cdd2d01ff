import AttnCore
import Foundation

/// The yardstick: exact attention in Float64, plain O(n_q·n_k) memory per head.
///
/// Computes `D⁻¹AV` with `A = exp(s·QKᵀ − rowmax)`; subtracting the row max
/// changes nothing mathematically (it cancels in D⁻¹A) and keeps every exp
/// argument ≤ 0, so no score magnitude overflows. Inputs are widened to
/// Float64 exactly; every sum runs left to right.
///
/// Error bound: `ForwardErrorBound.reference` (Proofs/online-softmax-error.md).
public enum ReferenceAttention {
    /// - Returns: `heads × n_q × d_v`, in Float64.
    /// - Throws: `AttnError.usage` on shape mismatch, NaN/Inf, or a score model that does not fit the shapes.
    public static func compute<T: AttnScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>,
        scale: Scale, scoreModel: ScoreModel = .plain
    ) throws -> Tensor<Double> {
        try forward(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel).output
    }

    /// The output (`heads × n_q × d_v`, Float64) and each row's log-sum-exp (natural log, `heads × n_q`,
    /// sinks included; −∞ for a fully masked row without a sink).
    /// - Throws: as `compute`.
    public static func forward<T: AttnScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>,
        scale: Scale, scoreModel: ScoreModel = .plain
    ) throws -> (output: Tensor<Double>, lse: [Double]) {
        let (w, lse) = try weightsAndLSE(q: q, k: k, scale: scale, scoreModel: scoreModel, v: v)
        let vs = v.storage.map(Double.init)
        let (nq, nk, dv) = (q.rows, k.rows, v.cols)
        var out = [Double](repeating: 0, count: q.heads * nq * dv)
        for h in 0..<q.heads {
            for i in 0..<nq {
                let o = (h * nq + i) * dv
                for j in 0..<nk {
                    let a = w.storage[(h * nq + i) * nk + j]
                    if a == 0 { continue }
                    let vr = (h * nk + j) * dv
                    for c in 0..<dv { out[o + c] += a * vs[vr + c] }
                }
            }
        }
        return (Tensor(heads: q.heads, rows: nq, cols: dv, storage: out, logicalRank: q.logicalRank), lse)
    }

    /// The attention weights `D⁻¹A` (heads × n_q × n_k); each row sums to 1
    /// up to rounding (less the sink's share), and masked entries are exactly 0.
    public static func weights<T: AttnScalar>(
        q: Tensor<T>, k: Tensor<T>, scale: Scale, scoreModel: ScoreModel = .plain,
        v: Tensor<T>? = nil
    ) throws -> Tensor<Double> {
        try weightsAndLSE(q: q, k: k, scale: scale, scoreModel: scoreModel, v: v).weights
    }

    static func weightsAndLSE<T: AttnScalar>(
        q: Tensor<T>, k: Tensor<T>, scale: Scale, scoreModel: ScoreModel, v: Tensor<T>?
    ) throws -> (weights: Tensor<Double>, lse: [Double]) {
        try validateAttentionShapes(q: q, k: k, v: v ?? Tensor<T>(heads: k.heads, rows: k.rows, cols: 1))
        try scoreModel.validate(batch: q.batch, heads: q.headsPerBatch, queries: q.rows, keys: k.rows)
        try checkMemory(heads: q.heads, nq: q.rows, nk: k.rows)
        return weights(
            q: q.storage.map(Double.init), k: k.storage.map(Double.init), heads: q.heads,
            headsPerBatch: max(1, q.headsPerBatch), nq: q.rows, nk: k.rows, d: q.cols, s: scale.value(d: q.cols),
            model: scoreModel)
    }

    /// Output row `i` of softmax(s·QKᵀ)V for one head (`d_v` values), in
    /// O(n_k·(d + d_v)) time and O(n_k) memory: large n can be checked on a
    /// sample of rows without forming the n×n matrix.
    ///
    /// The same yardstick one row at a time: Float64, the row max subtracted
    /// before exp (overflow-safe for any B), sums left to right; it normalises
    /// after summing, so its rounding error, about (n_k + d)·u·‖V‖∞ with
    /// u = 2⁻⁵³, is of the same order as `ForwardErrorBound.reference`.
    /// - Precondition: one-head tensors, `0 ≤ i < q.rows`, shapes as in `compute`.
    public static func row(
        _ i: Int, q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>,
        scale s: Double
    ) -> [Double] {
        precondition(q.heads == 1 && k.heads == 1 && v.heads == 1 && (0..<q.rows).contains(i))
        let d = q.cols, dv = v.cols, nk = k.rows
        var score = [Double](repeating: 0, count: nk)
        var m = -Double.infinity
        q.storage.withUnsafeBufferPointer { qs in
            k.storage.withUnsafeBufferPointer { ks in
                let qi = i * d
                for j in 0..<nk {
                    var dot = 0.0
                    for c in 0..<d { dot += qs[qi + c] * ks[j * d + c] }
                    score[j] = s * dot
                    m = Swift.max(m, score[j])
                }
            }
        }
        var l = 0.0
        var out = [Double](repeating: 0, count: dv)
        v.storage.withUnsafeBufferPointer { vs in
            for j in 0..<nk {
                let w = exp(score[j] - m)
                l += w
                for c in 0..<dv { out[c] += w * vs[j * dv + c] }
            }
        }
        for c in 0..<dv { out[c] /= l }
        return out
    }

    /// The raw scores s·QKᵀ of one head, n_q × n_k row-major, by one BLAS dgemm
    /// (no exp: for the low-rank baselines, which factor A = exp(scores) themselves).
    public static func scores(q: [Double], k: [Double], nq: Int, nk: Int, d: Int, scale s: Double) -> [Double] {
        var x = [Double](repeating: 0, count: nq * nk)
        if nq > 0 && nk > 0 {
            Double.gemm(
                transA: false, transB: true, m: nq, n: nk, k: d, alpha: s, a: q, lda: d, b: k, ldb: d,
                beta: 0, c: &x, ldc: nk)
        }
        return x
    }

    /// The weights matrix must fit in half the physical memory; otherwise the
    /// request is infeasible (exit 3), never a crash.
    static func checkMemory(heads: Int, nq: Int, nk: Int) throws {
        let (a, o1) = heads.multipliedReportingOverflow(by: nq)
        let (b, o2) = a.multipliedReportingOverflow(by: nk)
        let (bytes, o3) = b.multipliedReportingOverflow(by: MemoryLayout<Double>.size)
        let limit = ProcessInfo.processInfo.physicalMemory / 2
        if o1 || o2 || o3 || UInt64(bytes) > limit {
            throw AttnError.infeasible(
                .kernel,
                "the reference kernel stores \(heads)·\(nq)·\(nk) Float64 weights, beyond half the memory (\(limit >> 20) MiB); the fast kernel streams them"
            )
        }
    }

    /// Row by row: the visible keys' scores (`ScoreModel.score`), their max m (with the sink's σ),
    /// exp(score − m) summed left to right (plus exp(σ − m)), then each weight divided by the sum.
    static func weights(
        q: [Double], k: [Double], heads: Int, headsPerBatch: Int, nq: Int, nk: Int, d: Int, s: Double,
        model: ScoreModel
    ) -> (weights: Tensor<Double>, lse: [Double]) {
        var w = [Double](repeating: 0, count: heads * nq * nk)
        var lse = [Double](repeating: -.infinity, count: heads * nq)
        var visible = [Bool](repeating: false, count: nk)
        for f in 0..<heads {
            let (b, h) = (f / headsPerBatch, f % headsPerBatch)
            let sink = model.sink(batch: b, head: h)
            for i in 0..<nq {
                let row = (f * nq + i) * nk, qi = (f * nq + i) * d
                let keys = model.mask.visibleKeys(row: i, queries: nq, keys: nk)
                var m = sink ?? -Double.infinity
                for j in keys {
                    visible[j] = model.mask.explicit.map { $0[batch: b, head: h, row: i, col: j] } ?? true
                    guard visible[j] else { continue }
                    let kj = (f * nk + j) * d
                    var dot = 0.0
                    for c in 0..<d { dot += q[qi + c] * k[kj + c] }
                    w[row + j] = model.score(s * dot, batch: b, head: h, row: i, col: j, queries: nq, keys: nk)
                    m = max(m, w[row + j])
                }
                guard m > -.infinity else { continue }  // no visible key, no sink: output 0, LSE −∞
                var l = sink.map { exp($0 - m) } ?? 0
                for j in keys where visible[j] { w[row + j] = exp(w[row + j] - m); l += w[row + j] }
                for j in keys where visible[j] { w[row + j] /= l }
                lse[f * nq + i] = m + log(l)
            }
        }
        return (Tensor(heads: heads, rows: nq, cols: nk, storage: w), lse)
    }
}
