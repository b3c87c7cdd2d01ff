import AttnCore
import Foundation

/// A-priori forward error bounds of the floating-point exact kernels, per
/// output row. Derivation: Proofs/online-softmax-error.md; checked by
/// `FastVsReferenceTests` (fast vs reference) and `KernelsVsCertifiedTests` (each kernel against
/// the certified enclosure).
///
/// For row i, with u the unit roundoff of the working precision,
/// γ_k = k·u/(1 − k·u) (`Rounding.gamma`), M_i = s·‖q_i‖₂·max_j‖k_j‖₂ (Cauchy–Schwarz bound on
/// |s·q_i·k_j| and on Σ_c s|q_ic k_jc|), n_i the keys row i sees (all n_k, or
/// the causal prefix), T_i the number of key tiles they span and η the
/// relative error of exp:
///
///   g    = γ_{d+1} + c_s·(1 + γ_{d+1}),  c_s = Scale.relativeError(unitRoundoff: u)
///   δ_i  = g·M_i + 6u·M_i·(1 + g)                        (exponent error)
///   ρ_i  = exp(2δ_i + 2.01·(T_i+1)·η + 4.01·T_i·u)       (weight ratio)
///   |Ô_ij − O_ij| ≤ 2·maxV·[(ρ_i − 1) + 2γ_{n_i+T_i+2} + n_i·2⁻¹²⁵] + u_out·maxV
///                   + 2·(n_i + T_i + 4)·τ                 (underflow: τ = smallest subnormal)
///
/// The leading factor 2 absorbs second-order terms (see the proof). The last term covers
/// subnormal values and products (the relative model fails there), and keeps the bound
/// positive when 2·maxV·body underflows in Double (maxV near 1e-318). The
/// maxima run over all keys of the head, which bounds those of the causal prefix.
public enum ForwardErrorBound {
    /// Bound for `FastAttention.compute` (the fused kernel) in precision `T`, per
    /// head and query row: the tiled bound with T = its 256-key tiles, plus, when
    /// split-K cuts the keys into P ranges, P partial tiles and P merge rescales.
    /// Proof: Proofs/online-softmax-error.md; tests: `FastVsReferenceTests`,
    /// `KernelsVsCertifiedTests`.
    public static func fastAttention<T: KernelScalar>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
                                                      causal: Bool = false, tiles: TileSizes = .default,
                                                      as: T.Type = T.self) -> RowBounds {
        let splits = FastAttention.keySplits(queries: q.rows, keys: k.rows, heads: q.heads, tiles: tiles)
        let used = TileSizes(queryTile: tiles.balanced(queries: q.rows, heads: q.heads).queryTile,
                             keyTile: FastAttention.keyTile)
        let extra = splits > 1 ? 2 * splits : 0  // split-K: partial tiles and merge rescales (proof, "Split-K")
        let bound = rowBounds(q: q, k: k, v: v, scale: scale, causal: causal, u: T.unitRoundoff,
                              eta: T.expRelativeError, underflowUnit: Double(T.leastNonzeroMagnitude),
                              tiles: used, outputRoundoff: T.unitRoundoff, extraTiles: extra)
        return bound  // mutation-check: fused
    }

    /// Bound for a tiled online-softmax kernel with key tiles of `tiles.keyTile`
    /// keys in precision `T` (per head, per query row): the block-sparse and
    /// paged kernels (`OnlineSoftmaxAccumulator`).
    public static func fast<T: KernelScalar>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
                                             causal: Bool = false, tiles: TileSizes = .default,
                                             as: T.Type = T.self) -> RowBounds {
        let used = tiles.balanced(queries: q.rows, heads: q.heads)  // as `FastAttention.compute` tiles
        return rowBounds(q: q, k: k, v: v, scale: scale, causal: causal, u: T.unitRoundoff,
                         eta: T.expRelativeError, underflowUnit: Double(T.leastNonzeroMagnitude),
                         tiles: used, outputRoundoff: T.unitRoundoff)
    }

    /// Bound for `ReferenceAttention.compute` (Float64 arithmetic, one pass, no rescales).
    public static func reference<T: AttnScalar>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
                                                causal: Bool = false) -> RowBounds {
        rowBounds(q: q, k: k, v: v, scale: scale, causal: causal, u: Double.unitRoundoff,
                  eta: Double.expRelativeError, underflowUnit: Double.leastNonzeroMagnitude,
                  tiles: nil, outputRoundoff: 0)
    }

    /// `tiles == nil`: one pass over the keys row i sees (T_i = 1, the reference).
    /// Otherwise row i's count n_i is that of the keys its query tile processes
    /// (up to the tile's last row's last visible key; the masked ones add exact
    /// zeros), and T_i the key tiles they span, as `FastAttention.compute` loops.
    static func rowBounds<T: AttnScalar>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale, causal: Bool,
                                         u: Double, eta: Double, underflowUnit: Double, tiles: TileSizes?,
                                         outputRoundoff: Double, extraTiles: Int = 0) -> RowBounds {
        let cs = Scale.relativeError(unitRoundoff: u)
        let s = scale.value(d: q.cols) * (1 + 2 * u)  // ≥ the kernel's rounded scale and ≥ s* (|ŝ − s*| ≤ c_s·s*)
        func gamma(_ n: Int) -> Double { Rounding.gamma(n, unitRoundoff: u) }
        var out = [Double](repeating: 0, count: q.heads * q.rows)
        let d = q.cols, nk = k.rows
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
                let (seen, tilesSeen) = processed(row: i, nq: q.rows, nk: nk, causal: causal, tiles: tiles)
                let keyTiles = tilesSeen + extraTiles
                let T = Double(keyTiles)
                var q2 = 0.0
                for c in 0..<d { let x = Double(q[h, i, c]); q2 += x * x }
                let M = s * q2.squareRoot() * (1 + 1e-15 * Double(d + 2)) * kMax
                // Dot product of d terms (γ_d), product with ŝ (u), ŝ vs s* (c_s): ≤ g·M.
                let gd = gamma(d + 1) + cs * (1 + gamma(d + 1))
                let delta = gd * M + 6 * u * M * (1 + gd)
                let rho = exp(2 * delta + 2.01 * (T + 1) * eta + 4.01 * T * u)
                let body = (rho - 1) + 2 * gamma(seen + keyTiles + 2) + Double(seen) * 0x1p-125
                // Each product, sum, rescale and the division may err by half a subnormal spacing in
                // absolute terms; l ≥ 1, so dividing never enlarges them (proof §3, "Underflow").
                let underflow = 2 * Double(seen + keyTiles + 4) * underflowUnit
                out[h * q.rows + i] = 2 * vMax * body + outputRoundoff * vMax + underflow
            }
        }
        return RowBounds(heads: q.heads, rows: q.rows, values: out)
    }

    /// (n_i, T_i): the keys row i's pass processes and the key tiles they span.
    static func processed(row i: Int, nq: Int, nk: Int, causal: Bool, tiles: TileSizes?) -> (Int, Int) {
        guard causal else { return (nk, tiles.map { (nk + $0.keyTile - 1) / $0.keyTile } ?? 1) }
        func visible(_ r: Int) -> Int { max(1, min(nk, CausalMask.lastVisibleKey(row: r, queries: nq, keys: nk) + 1)) }
        guard let tiles else { return (visible(i), 1) }
        let lastRow = min(nq, (i / tiles.queryTile + 1) * tiles.queryTile) - 1
        let n = visible(lastRow)
        return (n, (n + tiles.keyTile - 1) / tiles.keyTile)
    }
}
