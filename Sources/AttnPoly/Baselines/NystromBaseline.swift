import AttnCore
import AttnKernels
import Foundation

/// Nyström approximation with r landmark queries I and keys J (drawn
/// without replacement, seeded): Ã = A[:, J]·A[I, J]⁺·A[I, :].
///
/// Needs only (n_q + n_k)·r entries of A, so it runs for large n. The
/// pseudo-inverse drops singular values below 10⁻¹³·σ_max. All entries are
/// scaled by e^{−m}, m the largest score among those formed.
public enum NystromBaseline {
    /// - Precondition: 1 ≤ r ≤ min(n_q, n_k).
    public static func factors(
        q: [Double], k: [Double], nq: Int, nk: Int, d: Int, scale s: Double,
        rank r: Int, seed: UInt64
    ) throws -> LowRankFactors {
        precondition(r >= 1 && r <= min(nq, nk))
        var rng = Xoshiro256StarStar(seed: seed)
        var qi = Array(0..<nq), kj = Array(0..<nk)
        rng.shuffle(&qi)
        rng.shuffle(&kj)
        let I = Array(qi.prefix(r)).sorted(), J = Array(kj.prefix(r)).sorted()
        let kJ = J.flatMap { k[$0 * d..<($0 + 1) * d] }, qI = I.flatMap { q[$0 * d..<($0 + 1) * d] }
        let c = exactScores(q: q, k: kJ, nq: nq, nk: r, d: d, scale: s)  // n_q × r
        let rr = exactScores(q: qI, k: k, nq: r, nk: nk, d: d, scale: s)  // r × n_k
        let w = exactScores(q: qI, k: kJ, nq: r, nk: r, d: d, scale: s)  // r × r
        let m = max(c.max() ?? 0, rr.max() ?? 0)
        let C = c.map { Foundation.exp($0 - m) }, Rm = rr.map { Foundation.exp($0 - m) }
        let W = w.map { Foundation.exp($0 - m) }
        // W⁺ = V·Σ⁺·Uᵀ.
        let (u, sig, vt) = try SVD.thin(W, rows: r, cols: r)
        let cutoff = 1e-13 * (sig.first ?? 0)
        var pinv = [Double](repeating: 0, count: r * r)  // r × r
        for a in 0..<r where sig[a] > cutoff {
            let inv = 1 / sig[a]
            for i in 0..<r { for j in 0..<r { pinv[i * r + j] += vt[a * r + i] * inv * u[j * r + a] } }
        }
        var left = [Double](repeating: 0, count: nq * r)
        Double.gemm(
            transA: false, transB: false, m: nq, n: r, k: r, alpha: 1, a: C, lda: r, b: pinv, ldb: r,
            beta: 0, c: &left, ldc: r)
        var right = [Double](repeating: 0, count: nk * r)
        for j in 0..<nk { for a in 0..<r { right[j * r + a] = Rm[a * nk + j] } }
        return LowRankFactors(
            rows: nq, keys: nk, rank: r, left: left, right: right,
            leftLogScale: [Double](repeating: m, count: nq))
    }
}
