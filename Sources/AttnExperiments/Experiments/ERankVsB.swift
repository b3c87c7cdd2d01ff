import AttnCore
import CLapack
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
        let n = p.n, d = p.d, s = 1 / Double(d)
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            var m = -Double.infinity
            for j in 0..<n {
                var dot = 0.0
                for c in 0..<d { dot += q.storage[i * d + c] * k.storage[j * d + c] }
                a[i * n + j] = s * dot
                m = Swift.max(m, a[i * n + j])
            }
            // Row max subtracted: overflow-safe for any B; the row sum then normalises.
            var l = 0.0
            for j in 0..<n { a[i * n + j] = exp(a[i * n + j] - m); l += a[i * n + j] }
            for j in 0..<n { a[i * n + j] /= l }
        }
        // Read as column-major this is Aᵀ, which has the same singular values.
        var sigma = [Double](repeating: 0, count: n)
        var u = [Double](repeating: 0, count: 1), vt = [Double](repeating: 0, count: 1)
        let info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int32(n), Int32(n), &a,
                                  Int32(n), &sigma, &u, 1, &vt, 1)
        guard info == 0 else { throw AttnError.checkFailed("erank-vs-b: LAPACKE_dgesdd failed (info \(info)) at n = \(n)") }
        let eps = configuration.epsilon(n: n)
        let r = sigma.prefix { $0 > eps * sigma[0] }.count
        let tail = r < n ? sigma[r] / sigma[0] : 0
        return SweepRow(method: "svd", rank: Double(r),
                        exponent: Self.costExponent(n: n, d: d, logRank: log(Double(Swift.max(r, 1)))),
                        error: tail, bound: eps)
    }
}
