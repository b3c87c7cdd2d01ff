import AttnCore
import Foundation

/// The yardstick of the backward pass: the gradients of `AttentionGradients` in Float64 with the
/// full weight matrix of each head, every sum left to right (O(n_q·n_k) memory per head).
///
/// P is `ReferenceAttention.weights` (row max subtracted before exp: overflow-safe for any score),
/// D_i = Σ_j P_ij·dP_ij (the form that needs no output O), then dS, dQ, dK and dV as defined; a
/// KV head's dK and dV add its query heads in order. Checked against the certified backward
/// (`CertifiedBackward`) and finite differences in `ReferenceBackwardTests`.
public enum ReferenceBackward {
    /// - Throws: `AttnError.usage` on shape mismatch, NaN/Inf (`.dO` for the gradient), causal with
    ///   n_q > n_k; `AttnError.infeasible` when the weights do not fit in memory.
    public static func compute<T: AttnScalar>(
        _ problem: AttentionTensors<T>, dO: Tensor<T>, scale: Scale, causal: Bool = false
    ) throws -> AttentionGradients<Double> {
        let shape = problem.shape
        try validateUpstreamGradient(dO, shape: shape, q: problem.q)
        if causal { try CausalMask.validate(queries: shape.nq, keys: shape.nk) }
        try ReferenceAttention.checkMemory(heads: 1, nq: shape.nq, nk: shape.nk)
        let (nq, nk, d, dv) = (shape.nq, shape.nk, shape.d, shape.dv)
        let s = scale.value(d: d)
        let q = problem.q.storage.map(Double.init), k = problem.k.storage.map(Double.init)
        let v = problem.v.storage.map(Double.init), g = dO.storage.map(Double.init)
        var dq = [Double](repeating: 0, count: q.count)
        var dk = [Double](repeating: 0, count: k.count), dvOut = [Double](repeating: 0, count: v.count)
        var ds = [Double](repeating: 0, count: nq * nk)
        for f in 0..<shape.flatHeads {
            let h = shape.kvHead(forQueryHead: f)
            let qh = Array(q[f * nq * d..<(f + 1) * nq * d]), kh = Array(k[h * nk * d..<(h + 1) * nk * d])
            let p = ReferenceAttention.weights(q: qh, k: kh, heads: 1, nq: nq, nk: nk, d: d, s: s, causal: causal)
            for i in 0..<nq {
                let gi = (f * nq + i) * dv
                var dsum = 0.0
                for j in 0..<nk {
                    var dp = 0.0
                    for c in 0..<dv { dp += g[gi + c] * v[(h * nk + j) * dv + c] }
                    ds[i * nk + j] = dp
                    dsum += p.storage[i * nk + j] * dp
                }
                for j in 0..<nk { ds[i * nk + j] = p.storage[i * nk + j] * (ds[i * nk + j] - dsum) }
            }
            for i in 0..<nq {
                for j in 0..<nk where ds[i * nk + j] != 0 || p.storage[i * nk + j] != 0 {
                    let (w, x) = (p.storage[i * nk + j], ds[i * nk + j])
                    for c in 0..<d { dq[(f * nq + i) * d + c] += x * k[(h * nk + j) * d + c] }
                    for c in 0..<d { dk[(h * nk + j) * d + c] += x * q[(f * nq + i) * d + c] }
                    for c in 0..<dv { dvOut[(h * nk + j) * dv + c] += w * g[(f * nq + i) * dv + c] }
                }
            }
            for x in f * nq * d..<(f + 1) * nq * d { dq[x] *= s }
        }
        for x in dk.indices { dk[x] *= s }
        func like<U>(_ t: Tensor<U>, _ x: [Double]) -> Tensor<Double> {
            Tensor(
                heads: t.heads, rows: t.rows, cols: t.cols, storage: x, logicalRank: t.logicalRank, batch: t.batch,
                headsPerBatch: t.headsPerBatch)
        }
        return AttentionGradients(dq: like(problem.q, dq), dk: like(problem.k, dk), dv: like(problem.v, dvOut))
    }
}
