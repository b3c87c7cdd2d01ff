import AttnCore
import Foundation

/// A-priori forward error bounds of the floating-point exact kernels, per
/// output row: |Ô_ic − O_ic| ≤ bound_i for every column c, against the exact
/// attention of the inputs' exact values. Derivation: Proofs/online-softmax-error.md.
///
/// For row i, with u the unit roundoff of the working precision,
/// γ_k = k·u/(1 − k·u) (`Rounding.gamma`), M_i = s·‖q_i‖₂·max_j‖k_j‖₂, n_i the keys row i's
/// pass processes, T_i their key tiles, η the relative error of exp and τ the smallest subnormal:
///
///   g    = γ_{d+1} + c_s·(1 + γ_{d+1}),   c_s = `Scale.relativeError(unitRoundoff: u)`
///   δ_i  = g·M_i + 2u·M_i·(1 + g)                       (exponent error, proof §1)
///   L_i  = 2δ_i + E·ln((1 + η)/(1 − η))                  (ln of the weight ratio, §2)
///   body = 2·tanh(L_i/4) + (γ_N + γ_l + γ_F·(1 + γ_N))/(1 − γ_l) + 2·n_i·2⁻¹²⁵   (§2–§3)
///   bound_i = V_max·min(body, 1 + (1 + γ_F)(1 + γ_N)/(1 − γ_l)) + 2·(N + T_i + 4)·τ
///
/// where N, l, E and F come from how the kernel really sums (`SummationDepth`): γ_N and γ_l
/// bound the relative error of the numerator and the denominator sums *separately* (the most
/// roundings any one term undergoes), E counts the exps multiplying one weight, F the roundings
/// of the final N/l. Nothing is dropped as "second order": every remainder is explicit. The
/// second argument of the min is valid for any input (it bounds |Ô| + |O|), so the bound never
/// exceeds about 2·V_max; it is +∞ only when γ_l ≥ 1.
///
/// Tests: `KernelTightnessTests` (the rounding staircase reaches > 0.5 of each bound, so halving
/// fails), `FastVsReferenceTests`, `KernelsVsCertifiedTests`, `InvarianceTests`,
/// `BlockSparseTightnessTests`; mutation rows kernel, reference, fused, blocksparse, underflow.
public enum ForwardErrorBound {
    /// Bound for `FastAttention.compute` (the fused kernel, every ISA copy) in precision `T`, per
    /// head and query row: 256-key tiles, the lane structure of each copy's denominator, and,
    /// when split-K cuts the keys into P ranges, the merge (proof, "Split-K").
    public static func fastAttention<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        scoreModel: ScoreModel = .plain, tiles: TileSizes = .default,
        as: T.Type = T.self
    ) -> RowBounds {
        let splits = FastAttention.keySplits(queries: q.rows, keys: k.rows, heads: q.heads, tiles: tiles)
        let used = TileSizes(
            queryTile: tiles.balanced(queries: q.rows, heads: q.heads).queryTile,
            keyTile: FastAttention.keyTile)
        let lanes = T.self == Float.self ? SummationDepth.fusedFloatLanes : SummationDepth.fusedDoubleLanes
        let bound = rowBounds(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, precision: T.self, tiles: used) {
            SummationDepth.fused(keys: $0, tiles: $1, keyTile: used.keyTile, splits: splits, lanes: lanes)
        }
        return bound  // mutation-check: fused
    }

    /// Bound for a tiled online-softmax kernel built on `OnlineSoftmaxAccumulator` (the
    /// block-sparse and paged kernels) with key tiles of `tiles.keyTile` keys in precision `T`.
    /// Its gemm may sum in any order, so the bound holds for any BLAS core. (The fused kernel sums
    /// differently: its bound is `fastAttention`.)
    public static func fast<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        scoreModel: ScoreModel = .plain, tiles: TileSizes = .default,
        as: T.Type = T.self
    ) -> RowBounds {
        let used = tiles.balanced(queries: q.rows, heads: q.heads)  // as `FastAttention.compute` tiles
        let float = T.self == Float.self
        let bound = rowBounds(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, precision: T.self, tiles: used) {
            SummationDepth.accumulator(keys: $0, tiles: $1, keyTile: used.keyTile, lanes: float ? 16 : nil)
        }
        return bound  // mutation-check: blocksparse
    }

    /// Bound for `ReferenceAttention.compute` (Float64 arithmetic, one pass, every sum left to right).
    public static func reference<T: AttnScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        scoreModel: ScoreModel = .plain
    ) -> RowBounds {
        let bound = rowBounds(
            q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, precision: Double.self, tiles: nil
        ) {
            n, _ in SummationDepth.reference(keys: n)
        }
        return bound  // mutation-check: reference
    }

    /// The bound of the header, per row, for a kernel computing in `precision` whose summation
    /// `depth(n_i, T_i)` describes. `tiles == nil`: one pass over the keys row i sees (T_i = 1).
    static func rowBounds<T: AttnScalar, P: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        scoreModel: ScoreModel, precision: P.Type, tiles: TileSizes?,
        depth: (Int, Int) -> SummationDepth
    ) -> RowBounds {
        let u = P.unitRoundoff, eta = P.expRelativeError, tau = Double(P.leastNonzeroMagnitude)
        let cs = Scale.relativeError(unitRoundoff: u)
        let s = scale.value(d: q.cols) * (1 + 2 * u)  // ≥ the kernel's rounded scale and ≥ s* (|ŝ − s*| ≤ c_s·s*)
        func gamma(_ n: Int) -> Double { Rounding.gamma(n, unitRoundoff: u) }
        let d = q.cols, nk = k.rows
        // Dot product of d terms (γ_d), product with ŝ (u), ŝ against s* (c_s): |x̂_j − x_j| ≤ g·M_i (§1).
        let g = gamma(d + 1) + cs * (1 + gamma(d + 1))
        let expPair = log1p(2 * eta / (1 - eta))  // ln((1 + η)/(1 − η)): one exp in a weight ratio (§2)
        var out = [Double](repeating: 0, count: q.heads * q.rows)
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
                let (seen, keyTiles) = processed(row: i, nq: q.rows, nk: nk, mask: scoreModel.mask, tiles: tiles)
                let depth = depth(seen, keyTiles)
                var q2 = 0.0
                for c in 0..<d { let x = Double(q[h, i, c]); q2 += x * x }
                let M = s * q2.squareRoot() * (1 + 1e-15 * Double(d + 2)) * kMax
                // The shifts x̂_j − m and the rescales m_old − m_new telescope to m_final − x̂_j ≤ 2M(1 + g) (§1).
                let delta = g * M + 2 * u * M * (1 + g)
                let gN = gamma(depth.numerator), gL = gamma(depth.denominator), gF = gamma(depth.final)
                var body = Double.infinity
                if gL < 1 {
                    // |Ô| + |O| ≤ V_max·(1 + (1 + γ_F)(1 + γ_N)/(1 − γ_l)) for every input (§3, "Trivial bound").
                    let trivial = 1 + (1 + gF) * (1 + gN) / (1 - gL)
                    // δ ≤ 0.3 keeps every flushed weight below 2⁻¹²⁵ (§3, "Underflow of exp").
                    let weights = 2 * tanh((2 * delta + Double(depth.exps) * expPair) / 4)
                    let sums = (gN + gL + gF * (1 + gN)) / (1 - gL)
                    body = delta <= 0.3 ? min(trivial, weights + sums + 2 * Double(seen) * 0x1p-125) : trivial
                }
                // Subnormal results on the value path, and this evaluation's own underflow (§3, "Subnormal").
                let underflow = 2 * Double(depth.numerator + keyTiles + 4) * tau  // mutation-check: underflow
                out[h * q.rows + i] = (vMax * body + underflow) * (1 + 0x1p-40)  // mutation-check: kernel
            }
        }
        return RowBounds(heads: q.heads, rows: q.rows, values: out)
    }

    /// (n_i, T_i): the keys row i's pass processes and the key tiles they span. Right-bounded
    /// windows (causal): from key 0 up to the last key visible to the last row of row i's query
    /// tile (the masked ones add exact zeros); at least 1, so a fully masked row keeps a bound.
    static func processed(row i: Int, nq: Int, nk: Int, mask: AttentionMask, tiles: TileSizes?) -> (Int, Int) {
        guard mask.window?.right != nil else { return (nk, tiles.map { (nk + $0.keyTile - 1) / $0.keyTile } ?? 1) }
        func visible(_ r: Int) -> Int { max(1, mask.visibleKeys(row: r, queries: nq, keys: nk).upperBound) }
        guard let tiles else { return (visible(i), 1) }
        let lastRow = min(nq, (i / tiles.queryTile + 1) * tiles.queryTile) - 1
        let n = visible(lastRow)
        return (n, (n + tiles.keyTile - 1) / tiles.keyTile)
    }
}

/// How a kernel forms one row's sums, as the error bound needs it (Proofs/online-softmax-error.md §3):
/// the most roundings any one term undergoes on its way into the numerator N = Σ p_j·v_j (its
/// product included) and into the denominator l = Σ p_j, the exps that multiply one weight, and
/// the roundings of the final N/l. A count is a *depth*, not a number of terms: a sum of n terms
/// in lanes, then across lanes, has depth about n/lanes + lanes.
struct SummationDepth: Equatable {
    var numerator: Int, denominator: Int, exps: Int, final: Int

    /// Lane counts W of the Float32 copies of the fused kernel (fused_attention.c: baseline SSE 4,
    /// AVX2 8, AVX-512 16).
    static let fusedFloatLanes = [4, 8, 16]

    /// Lane counts W of the Float64 copies of the fused kernel (baseline SSE2 2, AVX2 4, AVX-512 8).
    static let fusedDoubleLanes = [2, 4, 8]

    /// `FastAttention` (fused_kernel.inc). O accumulates one key at a time (one FMA, or a product
    /// and a sum in the baseline copy) across all tiles, with one rescale product per later tile:
    /// ≤ 1 + n + (T − 1). l: per tile, each lane sums ⌈c/W⌉ weights from 0 (c ≤ 256 the tile's keys),
    /// the W lanes are summed left to right from 0, then l·α + sum (2 roundings) per tile.
    /// Split-K (P ranges): one product by exp(m_p − M) and P additions for O and for l, one exp more.
    static func fused(keys n: Int, tiles t: Int, keyTile: Int, splits p: Int, lanes: [Int]?) -> SummationDepth {
        let c = min(n, keyTile)
        let tileSum = lanes.map { $0.map { (c + $0 - 1) / $0 - 1 + ($0 - 1) }.max() ?? c } ?? c - 1
        let merge = p > 1 ? p + 1 : 0
        return SummationDepth(
            numerator: n + t + merge, denominator: max(0, tileSum) + 2 * t + merge,
            exps: t + 1 + (p > 1 ? 1 : 0), final: 1)
    }

    /// `OnlineSoftmaxAccumulator`. O += P·V is a BLAS gemm with β = 1 that may sum in any order: the
    /// old O and each product pass through at most c_t additions in tile t's gemm (a summation tree of
    /// c_t + 1 leaves), so ≤ 1 + Σ_t c_t + (T − 1) rescales = n + T for any BLAS core. l: the tile's
    /// weights summed in `lanes` lanes (`attnbound_exp_shifted_sum_f32`: 16) or left to right (Float64),
    /// then l·α and l + sum per tile. The result is O·fl(1/l): two roundings.
    static func accumulator(keys n: Int, tiles t: Int, keyTile: Int, lanes: Int?) -> SummationDepth {
        let c = min(n, keyTile)
        let tileSum = lanes.map { (c + $0 - 1) / $0 - 1 + ($0 - 1) } ?? c - 1
        return SummationDepth(numerator: n + t, denominator: max(0, tileSum) + 2 * t, exps: t + 1, final: 2)
    }

    /// `ReferenceAttention.compute`: l left to right (n − 1 roundings after the exact first), each
    /// weight p_j/l rounded, then Σ fl(w_j·v_j) left to right: ≤ 1 + 1 + (n − 1) per term; no final division.
    static func reference(keys n: Int) -> SummationDepth {
        SummationDepth(numerator: n + 1, denominator: n, exps: 1, final: 0)
    }
}
