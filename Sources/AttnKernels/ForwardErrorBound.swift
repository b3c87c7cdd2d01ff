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
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    public static func fastAttention<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        scoreModel: ScoreModel = .plain, tiles: TileSizes = .default,
        as: T.Type = T.self
    ) -> RowBounds {
        let splits = FastAttention.plan(
            scoreModel, queries: q.rows, keys: k.rows, heads: q.heads, kvHeads: k.heads, tiles: tiles
        ).splits
        let used = TileSizes(
            queryTile: tiles.balanced(queries: q.rows, heads: q.heads).queryTile,
            keyTile: FastAttention.keyTile)
        let lanes = T.self == Float.self ? SummationDepth.fusedFloatLanes : SummationDepth.fusedDoubleLanes
        let bound = rowBounds(
            q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, precision: T.self, tiles: used, widens: true
        ) {
            SummationDepth.fused(keys: $0, tiles: $1, keyTile: used.keyTile, splits: splits, lanes: lanes)
        }
        return bound  // mutation-check: fused
    }

    /// Bound for the kernels of the tile engine (`TileEngine`: block-sparse, LiteAttention, db-SP) with
    /// `tiles.keyTile`-key tiles in precision `T`, on the full problem: the fused kernel's summation with each
    /// k-tile cut into tiles of at most 256 keys, so at most ⌈n_k/keyTile⌉·⌈keyTile/256⌉ kernel tiles of at most
    /// min(keyTile, 256) keys. A row restricted to fewer tiles or keys has no larger bound
    /// (Proofs/block-sparse-error.md).
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    public static func tiled<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale, tiles: TileSizes, as: T.Type = T.self
    ) -> RowBounds {
        let kernelTile = FastAttention.keyTile, pieces = (tiles.keyTile + kernelTile - 1) / kernelTile
        let lanes = T.self == Float.self ? SummationDepth.fusedFloatLanes : SummationDepth.fusedDoubleLanes
        let bound = rowBounds(q: q, k: k, v: v, scale: scale, scoreModel: .plain, precision: T.self, tiles: tiles) {
            SummationDepth.fused(
                keys: $0, tiles: $1 * pieces, keyTile: min(tiles.keyTile, kernelTile), splits: 1, lanes: lanes)
        }
        return bound  // mutation-check: blocksparse
    }

    /// Bound for a tiled online-softmax kernel built on `OnlineSoftmaxAccumulator` (the paged
    /// kernel's accumulator path) with key tiles of `tiles.keyTile` keys in precision `T`.
    /// Its gemm may sum in any order, so the bound holds for any BLAS core. (The fused kernel sums
    /// differently: its bound is `fastAttention`.)
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
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
        return bound  // mutation-check: accumulator
    }

    /// Bound for `ReferenceAttention.compute` (Float64 arithmetic, one pass, every sum left to right).
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
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
    /// A row whose scores or sums may overflow (`mayOverflow`, proof §4) gets +∞, unless `widens`: the
    /// kernel then recomputes a non-finite row by the Float64 reference and rounds it to `P`, and the
    /// row gets the larger of the two bounds.
    // Specialised: generic, the norms' per-element closures and subscripts cost more than a sparse kernel's tiles
    // (issue 22: the bound took a third of `bench sparse`).
    @_specialize(where T == Float, P == Float)
    @_specialize(where T == Double, P == Double)
    @_specialize(where T == Float, P == Double)
    static func rowBounds<T: AttnScalar, P: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        scoreModel: ScoreModel, precision: P.Type, tiles: TileSizes?, widens: Bool = false,
        depth: @escaping @Sendable (Int, Int) -> SummationDepth
    ) -> RowBounds {
        let d = q.cols, nk = k.rows, sv = scale.value(d: q.cols)
        let group = max(1, q.heads / max(1, k.heads))  // GQA: query head h reads KV head h / group
        let wide = widens && P.self != Double.self && scoreModel.terms.isEmpty
        let hpb = max(1, q.headsPerBatch)
        let workers = ProcessInfo.processInfo.activeProcessorCount
        // Rows in chunks, so that one head's rows use every core too (a one-head sparse call spent 2.5 ms here).
        let chunk = 1024
        let kChunks = max(1, (nk + chunk - 1) / chunk), qChunks = max(1, (q.rows + chunk - 1) / chunk)
        // max_j ‖k_j‖₂ and max |v| once per KV head (not once per query head of its group), chunks in parallel.
        var kvParts = [Double](repeating: 0, count: 2 * k.heads * kChunks)  // (‖k‖ max, |v| max) per (KV head, chunk)
        kvParts.withUnsafeMutableBufferPointer { kb in
            let kvOut = UnsafeSendablePointer(kb.baseAddress!)
            Parallel.forEachJob(k.heads * kChunks, workers: workers) { worker in
                while let job = worker.next() {
                    let hk = job / kChunks, rows = job % kChunks * chunk..<min(nk, (job % kChunks + 1) * chunk)
                    var kMax = 0.0, vMax = 0.0
                    k.storage.withUnsafeBufferPointer { kp in
                        for j in rows { kMax = max(kMax, norm(kp.baseAddress! + (hk * nk + j) * d, count: d)) }
                    }
                    v.storage.withUnsafeBufferPointer { vp in
                        vMax = maxMagnitude(
                            vp.baseAddress! + (hk * nk + rows.lowerBound) * v.cols, count: rows.count * v.cols)
                    }
                    (kvOut.pointer[2 * job], kvOut.pointer[2 * job + 1]) = (kMax, vMax)
                }
            }
        }
        var kvMax = [Double](repeating: 0, count: 2 * k.heads)  // (‖k‖ max, |v| max) per KV head
        for job in 0..<k.heads * kChunks {
            let hk = job / kChunks
            (kvMax[2 * hk], kvMax[2 * hk + 1]) = (
                max(kvMax[2 * hk], kvParts[2 * job]), max(kvMax[2 * hk + 1], kvParts[2 * job + 1])
            )
        }
        let keyMax = kvMax
        let constants = RowConstants(precision: P.self, scale: sv, d: d)
        let wideConstants = RowConstants(precision: Double.self, scale: sv, d: d)
        var out = [Double](repeating: 0, count: q.heads * q.rows)
        out.withUnsafeMutableBufferPointer { ob in
            let outRows = UnsafeSendablePointer(ob.baseAddress!)
            Parallel.forEachJob(q.heads * qChunks, workers: workers) { worker in
                while let job = worker.next() {
                    let h = job / qChunks, rows = job % qChunks * chunk..<min(q.rows, (job % qChunks + 1) * chunk)
                    q.storage.withUnsafeBufferPointer { qp in
                        boundRows(h, rows, qp, outRows.pointer + h * q.rows)
                    }
                }
            }
        }
        return RowBounds(heads: q.heads, rows: q.rows, values: out)

        // Rows `rows` of query head h into out[rows].
        @Sendable func boundRows(
            _ h: Int, _ rows: Range<Int>, _ qp: UnsafeBufferPointer<T>, _ out: UnsafeMutablePointer<Double>
        ) {
            let terms = ScoreTermBounds(
                scoreModel, batch: h / hpb, head: h % hpb, queries: q.rows, keys: nk, unitRoundoff: P.unitRoundoff)
            let (kMax, vMax) = (keyMax[2 * (h / group)], keyMax[2 * (h / group) + 1])
            // The score underflow term a (§1′) of the head, in the kernel's precision and in Float64.
            let (underflow, wideUnderflow) = (
                constants.scoreUnderflow(d: d, keyNorm: kMax), wideConstants.scoreUnderflow(d: d, keyNorm: kMax)
            )
            // The depth of the last (n_i, T_i), reused while it repeats (every row without a right bound, every
            // row of a query tile with one): `depth` may allocate, and it ran once per row.
            var last: (seen: Int, tiles: Int, depth: SummationDepth)?
            for i in rows {
                let (seen0, tiles0) = processed(row: i, nq: q.rows, nk: nk, mask: scoreModel.mask, tiles: tiles)
                // A sink is one more term of the denominator and one more rescale of the numerator (proof §5).
                let (seen, keyTiles) = terms.sink == nil ? (seen0, tiles0) : (seen0 + 1, tiles0 + 1)
                let qn = norm(qp.baseAddress! + (h * q.rows + i) * d, count: d)
                let head = RowInputs(d: d, scale: sv, queryNorm: qn, keyNorm: kMax, valueMax: vMax)
                if last == nil || last!.seen != seen || last!.tiles != keyTiles {
                    last = (seen, keyTiles, depth(seen, keyTiles))
                }
                var b = rowBound(
                    head, constants, scoreUnderflow: underflow, depth: last!.depth, seen: seen, keyTiles: keyTiles,
                    terms: { terms.row(i, dotBound: $0, dotError: $1) })
                if wide && b.mayOverflow {
                    // Recomputed in Float64 (FastAttention.widenNonFiniteRows) and rounded to P: one pass over `seen` keys.
                    let r = rowBound(
                        head, wideConstants, scoreUnderflow: wideUnderflow, depth: .reference(keys: seen), seen: seen,
                        keyTiles: 1,
                        terms: { ($1, $0) })
                    let u = P.unitRoundoff, tau = Double(P.leastNonzeroMagnitude)
                    let rounded = (r.value + u * (vMax + r.value) + tau / 2) * (1 + 4 * u)
                    b = (max(b.value, rounded), r.mayOverflow)
                }
                out[i] = b.mayOverflow ? .infinity : b.value
            }
        }
    }

    /// What every row's bound in one precision shares: the format's constants, the scale's rounding and g.
    struct RowConstants {
        let u: Double, eta: Double, tau: Double, greatestFinite: Double
        /// |ŝ − s*| ≤ c_s·s*, subnormal and zero ŝ included; s ≥ ŝ and ≥ s* (scale-rounding.md).
        let cs: Double, s: Double
        /// Dot product of d terms (γ_d), product with ŝ (u), ŝ against s* (c_s).
        let g: Double
        /// ln((1 + η)/(1 − η)): one exp in a weight ratio (§2).
        let expPair: Double
        init<P: KernelScalar>(precision: P.Type, scale: Double, d: Int) {
            (u, eta, tau) = (P.unitRoundoff, P.expRelativeError, Double(P.leastNonzeroMagnitude))
            greatestFinite = Double(P.greatestFiniteMagnitude)
            cs = Scale.relativeError(unitRoundoff: u, leastNonzeroMagnitude: tau, value: scale)
            s = Scale.upperBound(value: scale, unitRoundoff: u, leastNonzeroMagnitude: tau)
            let gd = Rounding.gamma(d + 1, unitRoundoff: u)
            g = gd + cs * (1 + gd)
            expPair = log1p(2 * eta / (1 - eta))
        }
        /// The score underflow term a (§1′) for keys of norm ≤ `keyNorm` in this precision.
        func scoreUnderflow(d: Int, keyNorm: Double) -> Double {
            ForwardErrorBound.scoreUnderflow(d: d, keyNorm: keyNorm, scaleUpper: s, leastNonzero: tau, unitRoundoff: u)
        }
    }

    /// What one row's bound needs of the inputs: ‖q_i‖, max_j ‖k_j‖, max |v_jc| (exact values, as Double).
    struct RowInputs {
        var d: Int, scale: Double, queryNorm: Double, keyNorm: Double, valueMax: Double
    }

    /// The bound of the header for one row in the precision of `c` (score underflow term `a` of that precision,
    /// `RowConstants.scoreUnderflow`), and whether the row may overflow there.
    /// `terms(dotBound, dotError)` gives the score terms' error E_i and magnitude M′_i (Proofs/score-terms-error.md;
    /// `ScoreTermBounds.row`); without terms (E, M′) = (dotError, dotBound).
    static func rowBound(
        _ x: RowInputs, _ c: RowConstants, scoreUnderflow a: Double, depth: SummationDepth, seen: Int, keyTiles: Int,
        terms: (Double, Double) -> (error: Double, magnitude: Double)
    ) -> (value: Double, mayOverflow: Bool) {
        let (u, tau, s, g, expPair) = (c.u, c.tau, c.s, c.g, c.expPair)
        func gamma(_ n: Int) -> Double { Rounding.gamma(n, unitRoundoff: u) }
        let vMax = x.valueMax
        let M = x.queryNorm == 0 || x.keyNorm == 0 ? 0 : s * x.queryNorm * x.keyNorm
        // The score terms' error E_i and magnitude M′_i, with the dot product's error g·M + a (§1, §1′). The shifts
        // x̂_j − m and the rescales m_old − m_new telescope to m_final − x̂_j ≤ 2(M′(1 + g) + a) (§1).
        let (scoreError, magnitude) = terms(M, g * M + a)
        let delta = scoreError + 2 * u * (magnitude * (1 + g) + a)  // mutation-check: score-terms
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
        let value = (vMax * body + underflow) * (1 + 0x1p-40)  // mutation-check: kernel
        let overflow = mayOverflow(
            queryNorm: x.queryNorm, keyNorm: x.keyNorm, scaleUpper: s, scoreBound: magnitude * (1 + g) + a, keys: seen,
            valueMax: vMax, normalised: depth.normalised, greatestFinite: c.greatestFinite)
        return (value, overflow)
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
    /// The weights are normalised before they meet V (the reference), so |N| ≤ V_max·(1 + γ): no overflow of N.
    var normalised = false

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
        SummationDepth(numerator: n + 1, denominator: n, exps: 1, final: 0, normalised: true)
    }
}
