import AttnCore
import AttnKernels
import Foundation

extension SweepMeasurer {
    /// The numerical ε-rank of the attention matrix D⁻¹A, A = exp(QKᵀ/d):
    /// #{i : σᵢ > ε·σ₁}, ε = n^{−p}, from LAPACK's singular values (dgesdd,
    /// values only). D⁻¹A has the exact rank of A, but its rows are on one
    /// scale: for large B the raw A spans e^{±B²} and a relative-to-σ₁ rank
    /// would only count its few largest entries. `error` is σ_{r+1}/σ₁, the
    /// relative spectral error of the best rank-r approximation
    /// (Eckart–Young); `bound` is ε, which it never exceeds by construction.
    func erankVsB(_ p: SweepPoint) throws -> SweepRow {
        var rng = Xoshiro256StarStar(seed: p.seed)
        let (q, k, _) = inputs(p, dv: 1, rng: &rng)
        let n = p.n, d = p.d
        // D⁻¹A from the yardstick (s = 1/d; row max subtracted, so overflow-safe for any B).
        let a = try ReferenceAttention.weights(q: q, k: k, scale: .paper).storage
        let sigma = try SVD.singularValues(a, rows: n, cols: n)
        let eps = configuration.epsilon(n: n)
        let r = sigma.prefix { $0 > eps * sigma[0] }.count
        let tail = r < n ? sigma[r] / sigma[0] : 0
        return SweepRow(
            method: "svd", rank: Double(r),
            exponent: Self.costExponent(n: n, d: d, logRank: log(Double(Swift.max(r, 1)))),
            error: tail, bound: eps)
    }
}
