import AttnCore
import Foundation

/// The yardstick of the backward pass: the gradients of `AttentionGradients` in Float64 with the
/// full weight matrix of each head, every sum left to right (O(n_q·n_k) memory per head).
///
/// P is formed as `ReferenceAttention.weights` forms it (row max subtracted before exp: overflow-safe for any score),
/// D_i = Σ_j P_ij·dP_ij (the form that needs no output O), then dS, dQ, dK and dV as defined; a
/// KV head's dK and dV add its query heads in order. Checked against the certified backward
/// (`CertifiedBackward`) and finite differences in `ReferenceBackwardTests`.
public enum ReferenceBackward {
    /// - Throws: `AttnError.usage` on shape mismatch, NaN/Inf (`.dO` for the gradient), a score term
    ///   (its parameter); `AttnError.infeasible` when the weights do not fit in memory.
    public static func compute<T: AttnScalar>(
        _ problem: AttentionTensors<T>, dO: Tensor<T>, scale: Scale, scoreModel: ScoreModel = .plain
    ) throws -> AttentionGradients<Double> {
        let shape = problem.shape
        try validateBackward(dO, shape: shape, q: problem.q, model: scoreModel)
        try ReferenceAttention.checkMemory(heads: 1, nq: shape.nq, nk: shape.nk)
        let (nq, nk, d, dv) = (shape.nq, shape.nk, shape.d, shape.dv)
        let s = scale.value(d: d), mask = BackwardMask(scoreModel, shape)
        let q = problem.q.storage.map(Double.init), k = problem.k.storage.map(Double.init)
        let v = problem.v.storage.map(Double.init), g = dO.storage.map(Double.init)
        var dq = [Double](repeating: 0, count: q.count)
        var dk = [Double](repeating: 0, count: k.count), dvOut = [Double](repeating: 0, count: v.count)
        var ds = [Double](repeating: 0, count: nq * nk)
        for f in 0..<shape.flatHeads {
            let h = shape.kvHead(forQueryHead: f)
            let qh = Array(q[f * nq * d..<(f + 1) * nq * d]), kh = Array(k[h * nk * d..<(h + 1) * nk * d])
            let p = weights(qh, kh, head: f, mask: mask, d: d, s: s)
            for i in 0..<nq {
                let gi = (f * nq + i) * dv
                var dsum = 0.0
                for j in 0..<nk {
                    var dp = 0.0
                    for c in 0..<dv { dp += g[gi + c] * v[(h * nk + j) * dv + c] }
                    ds[i * nk + j] = dp
                    dsum += p[i * nk + j] * dp
                }
                for j in 0..<nk { ds[i * nk + j] = p[i * nk + j] * (ds[i * nk + j] - dsum) }
            }
            for i in 0..<nq {
                for j in 0..<nk where ds[i * nk + j] != 0 || p[i * nk + j] != 0 {
                    let (w, x) = (p[i * nk + j], ds[i * nk + j])
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

    /// P of flat head f (n_q × n_k, row-major): the row max subtracted before exp, sums left to right,
    /// masked entries and rows without a visible key exactly 0.
    static func weights(_ q: [Double], _ k: [Double], head f: Int, mask: BackwardMask, d: Int, s: Double) -> [Double] {
        let (nq, nk) = (mask.nq, mask.nk)
        var w = [Double](repeating: 0, count: nq * nk)
        for i in 0..<nq {
            let keys = mask.window(i).filter { mask.visible(head: f, row: i, key: $0) }
            var m = -Double.infinity
            for j in keys {
                var dot = 0.0
                for c in 0..<d { dot += q[i * d + c] * k[j * d + c] }
                w[i * nk + j] = s * dot
                m = max(m, w[i * nk + j])
            }
            var l = 0.0
            for j in keys { w[i * nk + j] = exp(w[i * nk + j] - m); l += w[i * nk + j] }
            for j in keys { w[i * nk + j] /= l }
        }
        return w
    }
}
