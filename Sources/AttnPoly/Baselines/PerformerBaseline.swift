import AttnCore
import Foundation

/// Performer FAVOR+ (Choromanski et al. 2021): positive orthogonal random
/// features. With x = √s·q, y = √s·k and ω ~ N(0, I_d),
/// e^{⟨x,y⟩} = E[e^{ωᵀx − ‖x‖²/2}·e^{ωᵀy − ‖y‖²/2}], estimated with m
/// features whose directions are orthogonal in blocks of d and whose norms
/// are drawn from χ_d (so each ω is still marginally Gaussian).
///
/// Unbiased, positive, but its variance grows like e^{‖x+y‖²}: no
/// deterministic bound. Seeded: the same seed gives the same features.
public enum PerformerBaseline {
    /// m × d random directions (row-major), seeded.
    public static func features(count m: Int, d: Int, seed: UInt64) -> [Double] {
        var rng = Xoshiro256StarStar(seed: seed)
        var omega = [Double](repeating: 0, count: m * d)
        var row = 0
        while row < m {
            // One block: a d × d Gaussian matrix, orthonormalised by modified Gram–Schmidt.
            var g = (0..<(d * d)).map { _ in rng.gaussian() }
            for a in 0..<d {
                for b in 0..<a {
                    var dot = 0.0
                    for c in 0..<d { dot += g[a * d + c] * g[b * d + c] }
                    for c in 0..<d { g[a * d + c] -= dot * g[b * d + c] }
                }
                var norm = 0.0
                for c in 0..<d { norm += g[a * d + c] * g[a * d + c] }
                norm = norm.squareRoot()
                for c in 0..<d { g[a * d + c] /= norm }
            }
            for a in 0..<d where row < m {
                var chi = 0.0
                for _ in 0..<d { let z = rng.gaussian(); chi += z * z }
                chi = chi.squareRoot()
                for c in 0..<d { omega[row * d + c] = g[a * d + c] * chi }
                row += 1
            }
        }
        return omega
    }

    /// Rank-m factors of A for one head (row-major q: n_q × d, k: n_k × d).
    public static func factors(
        q: [Double], k: [Double], nq: Int, nk: Int, d: Int, scale s: Double,
        rank m: Int, seed: UInt64
    ) -> LowRankFactors {
        let omega = features(count: m, d: d, seed: seed)
        let root = s.squareRoot()
        func side(_ x: [Double], _ n: Int) -> ([Double], [Double]) {
            var f = [Double](repeating: 0, count: n * m), scale = [Double](repeating: 0, count: n)
            var proj = [Double](repeating: 0, count: m)
            for i in 0..<n {
                var norm2 = 0.0
                for c in 0..<d { let y = root * x[i * d + c]; norm2 += y * y }
                var top = -Double.infinity
                for a in 0..<m {
                    var p = 0.0
                    for c in 0..<d { p += omega[a * d + c] * root * x[i * d + c] }
                    proj[a] = p
                    top = max(top, p)
                }
                // φ_a = e^{p_a − ‖x‖²/2}/√m = e^{scale_i}·e^{p_a − top}/√m.
                scale[i] = top - norm2 / 2
                let inv = 1 / Double(m).squareRoot()
                for a in 0..<m { f[i * m + a] = Foundation.exp(proj[a] - top) * inv }
            }
            return (f, scale)
        }
        let (l, a) = side(q, nq), (r, b) = side(k, nk)
        return LowRankFactors(rows: nq, keys: nk, rank: m, left: l, right: r, leftLogScale: a, rightLogScale: b)
    }
}
