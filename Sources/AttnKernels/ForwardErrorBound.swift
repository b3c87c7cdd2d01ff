import AttnCore
import Foundation

/// A-priori forward error bounds of the floating-point exact kernels, per
/// output row. Derivation: Proofs/online-softmax-error.md; checked by
/// `FastVsReferenceTests` (fast vs reference) and `KernelsVsCertifiedTests` (each kernel against
/// the certified enclosure).
///
/// For row i, with u the unit roundoff of the working precision,
/// γ_k = k·u/(1 − k·u), M_i = s·‖q_i‖₂·max_j‖k_j‖₂ (Cauchy–Schwarz bound on
/// |s·q_i·k_j| and on Σ_c s|q_ic k_jc|), T the number of key tiles and η the
/// relative error of exp:
///
///   δ_i  = γ_{d+2}·M_i + 6u·M_i·(1 + γ_{d+2})            (exponent error)
///   ρ_i  = exp(2δ_i + 2.01·(T+1)·η + 4.01·T·u)           (weight ratio)
///   |Ô_ij − O_ij| ≤ 2·maxV·[(ρ_i − 1) + 2γ_{n_k+T+2} + n_k·2⁻¹²⁵] + u_out·maxV
///
/// The leading factor 2 absorbs second-order terms (see the proof).
public enum ForwardErrorBound {
    /// Bound for `FastAttention.compute` (the fused kernel) in precision `T`, per
    /// head and query row: the tiled bound with T = its 256-key tiles, plus, when
    /// split-K cuts the keys into P ranges, P partial tiles and P merge rescales.
    /// Proof: Proofs/online-softmax-error.md; tests: `FastVsReferenceTests`,
    /// `KernelsVsCertifiedTests`.
    public static func fastAttention<T: KernelScalar>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
                                                      causal: Bool = false, tiles: TileSizes = .default,
                                                      as: T.Type = T.self) -> [Double] {
        let splits = FastAttention.keySplits(queries: q.rows, keys: k.rows, heads: q.heads, tiles: tiles)
        let keyTiles = (k.rows + FastAttention.keyTile - 1) / FastAttention.keyTile + (splits > 1 ? 2 * splits : 0)
        return rowBounds(q: q, k: k, v: v, scale: scale, u: T.unitRoundoff, eta: T.expRelativeError,
                         keyTiles: keyTiles, outputRoundoff: T.unitRoundoff)
    }

    /// Bound for a tiled online-softmax kernel with key tiles of `tiles.keyTile`
    /// keys in precision `T` (per head, per query row): the block-sparse and
    /// paged kernels (`OnlineSoftmaxAccumulator`).
    public static func fast<T: KernelScalar>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
                                             causal: Bool = false, tiles: TileSizes = .default,
                                             as: T.Type = T.self) -> [Double] {
        let tilesCount = (k.rows + tiles.keyTile - 1) / tiles.keyTile
        return rowBounds(q: q, k: k, v: v, scale: scale, u: T.unitRoundoff, eta: T.expRelativeError,
                         keyTiles: tilesCount, outputRoundoff: T.unitRoundoff)
    }

    /// Bound for `ReferenceAttention.compute` (Float64 arithmetic, one pass, no rescales).
    public static func reference<T: AttnScalar>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
                                                causal: Bool = false) -> [Double] {
        rowBounds(q: q, k: k, v: v, scale: scale, u: Double.unitRoundoff, eta: Double.expRelativeError,
                  keyTiles: 1, outputRoundoff: 0)
    }

    static func rowBounds<T: AttnScalar>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
                                         u: Double, eta: Double, keyTiles: Int, outputRoundoff: Double) -> [Double] {
        let s = scale.value(d: q.cols) * (1 + 2 * u)  // s rounded to the working precision, upward
        func gamma(_ n: Int) -> Double { let x = Double(n) * u; return x < 1 ? x / (1 - x) : .infinity }
        var out = [Double](repeating: 0, count: q.heads * q.rows)
        let d = q.cols, nk = k.rows, T = Double(keyTiles)
        for h in 0..<q.heads {
            var kMax = 0.0, vMax = 0.0
            for j in 0..<nk {
                var s2 = 0.0
                for c in 0..<d { let x = Double(k[h, j, c]); s2 += x * x }
                kMax = max(kMax, s2.squareRoot())
                for c in 0..<v.cols { vMax = max(vMax, abs(Double(v[h, j, c]))) }
            }
            kMax *= 1 + 1e-15 * Double(d + 2)  // the Double norm is itself rounded
            for i in 0..<q.rows {
                var q2 = 0.0
                for c in 0..<d { let x = Double(q[h, i, c]); q2 += x * x }
                let M = s * q2.squareRoot() * (1 + 1e-15 * Double(d + 2)) * kMax
                let gd = gamma(d + 2)
                let delta = gd * M + 6 * u * M * (1 + gd)
                let rho = exp(2 * delta + 2.01 * (T + 1) * eta + 4.01 * T * u)
                let body = (rho - 1) + 2 * gamma(nk + keyTiles + 2) + Double(nk) * 0x1p-125
                out[h * q.rows + i] = 2 * vMax * body + outputRoundoff * vMax
            }
        }
        return out
    }
}
