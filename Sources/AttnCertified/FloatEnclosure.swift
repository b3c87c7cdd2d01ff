import AttnCore
import CLapack

/// The certified engine in floating point: every output entry of attention
/// enclosed as `[ô − e, ô + e]`, computed in Float64 with BLAS and a rigorous
/// a-posteriori bound `e`.
///
/// **Guarantee** (Proofs/float-certified-engine.md, Theorem): for every flat
/// query head f, row i and value column c, `|ô_fic − O_fic| ≤ e_fic`, where O
/// is the exact real attention of the inputs' exact values with the exact
/// scale (AttnKit.docc/Conventions.md), under the BLAS assumptions of §0 (IEEE binary64,
/// round to nearest, every dgemm entry a sum of the exact products in some
/// order, each operation rounded once, FMA allowed), for every score model: masks, and softcap, bias,
/// ALiBi and sinks with per-key bounds (§7). Rows where the bound's
/// own premises fail (δ_max > 1/4, non-finite intermediates) get `e = +∞`:
/// undecided, never wrong. Tested in `FloatEnclosureTests` against the GMP engine.
///
/// **Cost**: two dgemm per row block (scores, then weights × [V | 1 | ‖k‖]) and
/// one exp per score; the bound costs O(n·d) per head (norms, column ranges).
/// **Memory**: one `block × n_k` score tile per worker, never n × n.
package final class FloatAttentionEngine: @unchecked Sendable {  // immutable once built
    package let shape: AttentionShape
    /// Which keys each row sees, and the score terms (Proofs/certified-score-model.md).
    package let model: JudgedScores
    let q: [Double], k: [Double]
    /// Per KV head: [V | 1 | ‖k_j‖] row-major, n_k × (d_v + 2).
    let vExt: [Double]
    /// Per KV head and column c: R_c ≥ max_j v_jc − min_j v_jc and M_c ≥ max_j |v_jc|.
    let range: [Double], vMax: [Double]
    /// Per KV head: an upper bound on max_j ‖k_j‖₂, and on each ‖k_j‖₂ (n_k per head, for the terms of §7).
    let kNormMax: [Double], kNorms: [Double]
    /// n = n_k, plus 1 with sinks: the length of the denominator's sum (§7).
    let nTerms: Int
    /// The scale: sLo ≤ s ≤ sHi (MPFR, rounded outward); ŝ = sLo is the one used.
    let sLo: Double, sHi: Double
    /// Row-uniform constants of the bound (§4), all rounded up.
    let a1: Double, b: Double, c0: Double, gammaD: Double, g3: Double, u1: Double, gammaNUp: Double, gammaNDown: Double

    /// Rows per block: 256, fewer for long rows so that a score tile stays ≤ 16 MB. Tall blocks amortise
    /// BLAS's packing of K and [V | 1 | ‖k‖] (n = 4096, d = 128, one core: 0.19 CPU-s of dgemm per head
    /// with 256 rows, 0.24 s with 64).
    package let rowsPerBlock: Int

    /// NaN or ±∞ in the inputs are not rejected here (`TieredVerification.run` rejects them): they
    /// make the scores, the row maximum, ô or R_c non-finite, so the rows they touch get e = +∞.
    /// - Parameter scoreModel: what attention computes. Score terms (softcap, bias, ALiBi) are
    ///   evaluated with a per-key error bound (`FloatScoreTerms`, §7) and a sink is one more weight
    ///   of the denominator with value row 0 (§7); rows with no visible key are exact.
    /// - Throws: `AttnError.usage` on bad shapes, a model term whose shape does not broadcast.
    package init(
        q qt: Tensor<Double>, k kt: Tensor<Double>, v vt: Tensor<Double>, scale: Scale, scoreModel: ScoreModel
    ) throws {
        shape = try AttentionShape(q: qt, k: kt, v: vt, checkFinite: false)
        model = try JudgedScores(scoreModel, shape: shape)
        // A sliding window of w keys: blocks of about w rows, so the union of a block's windows (what the
        // dgemm multiplies) stays within twice the visible keys.
        let band = scoreModel.mask.window.flatMap { w in w.left.map { $0 + (w.right ?? $0) + 1 } } ?? 256
        // An explicit mask: blocks of 64 rows, so that the tiles a block skips (`liveSegments`) follow the
        // mask's own 64- or 128-row blocks.
        let tall = scoreModel.mask.explicit == nil ? 256 : 64
        rowsPerBlock = max(1, min(tall, max(32, band), (1 << 21) / max(shape.nk, 1)))
        q = qt.storage; k = kt.storage
        let (nk, d, dv) = (shape.nk, shape.d, shape.dv)
        let kvHeads = shape.batch * shape.headsKV
        let w = dv + 2
        var ext = [Double](repeating: 0, count: kvHeads * nk * w)
        var rng = [Double](repeating: 0, count: kvHeads * dv), mx = rng
        var kmax = [Double](repeating: 0, count: kvHeads), norms = [Double](repeating: 0, count: kvHeads * nk)
        // A sink is a key with value row 0 (§7): V's range must then reach 0.
        let sinkRow = scoreModel.sinks != nil
        kt.storage.withUnsafeBufferPointer { kb in
            for g in 0..<kvHeads {
                for j in 0..<nk {
                    let o = (g * nk + j) * w
                    for c in 0..<dv { ext[o + c] = vt.storage[(g * nk + j) * dv + c] }
                    ext[o + dv] = 1
                    let kn = Directed.norm2(kb.baseAddress! + (g * nk + j) * d, count: d)
                    ext[o + dv + 1] = kn
                    norms[g * nk + j] = kn
                    kmax[g] = max(kmax[g], kn)
                }
                for c in 0..<dv {
                    var lo = Double.infinity, hi = -Double.infinity
                    for j in 0..<nk { let x = vt.storage[(g * nk + j) * dv + c]; lo = min(lo, x); hi = max(hi, x) }
                    if sinkRow { lo = min(lo, 0); hi = max(hi, 0) }
                    rng[g * dv + c] = Directed.add(hi, -lo)  // hi − lo rounded up
                    mx[g * dv + c] = max(hi, -lo)
                }
            }
        }
        vExt = ext; range = rng; vMax = mx; kNormMax = kmax; kNorms = norms
        let n = nk + (sinkRow ? 1 : 0)
        nTerms = n
        let enclosure = try ScaleEnclosure(scale, d: d, precision: 64)
        sLo = enclosure.lower.double(rounding: .down)
        sHi = enclosure.upper.double(rounding: .up)
        // §4: a = u/(1−u); b = a + (sHi − sLo)/((1−u)·sLo); A1 = a + b/(1−u);
        // c0 = (b + 1)·2⁻¹⁰⁷⁵ + sHi·d·2⁻¹⁰⁷⁴, bounded by the normal (b + 1 + sHi·d)·2⁻¹⁰⁰⁰.
        let u = Directed.u
        let oneMinusU = Directed.subDown(1, u)
        let a = Directed.div(u, oneMinusU)
        let ds = Directed.add(sHi, -sLo)
        b = Directed.add(a, Directed.div(ds, Directed.mulDown(oneMinusU, sLo)))
        a1 = Directed.add(a, Directed.div(b, oneMinusU))
        c0 = Directed.mul(Directed.add(Directed.add(b, 1), Directed.mul(sHi, Double(d))), 0x1p-1000)
        gammaD = Directed.gamma(d)
        let gn = Directed.gamma(n)
        gammaNUp = Directed.add(1, gn)
        gammaNDown = Directed.subDown(1, gn)
        g3 = Directed.div(Directed.mul(2, gn), gammaNDown)
        u1 = a
    }

    /// Scratch for one worker: the score tile, the gemm output, a row's mask bytes, and the per-row
    /// results besides the output (LSE enclosure, whether the row sees no key).
    package final class Workspace {
        var scores: [Double]
        var pv: [Double]
        /// The block's explicit-mask bytes, row r at r·n_k (explicit masks only), and one segment's [N̂ | L̂ | K̂].
        var maskBytes: [UInt8]
        var pvPart: [Double]
        /// One row's Δ̂_j (§7).
        var delta: [Double]
        /// Per row of the last block: lseLo ≤ LSE ≤ lseHi (natural log), and no visible key.
        package var lseLo: [Double], lseHi: [Double], masked: [Bool]
        let logRegister = MPFRFloat(precision: 64), sumRegister = MPFRFloat(precision: 64)
        init(block: Int, nk: Int, dv: Int) {
            scores = [Double](repeating: 0, count: block * nk)
            pv = [Double](repeating: 0, count: block * (dv + 2))
            maskBytes = [UInt8](repeating: 0, count: block * nk)
            pvPart = [Double](repeating: 0, count: block * (dv + 2))
            delta = [Double](repeating: 0, count: nk)
            lseLo = [Double](repeating: 0, count: block)
            (lseHi, masked) = (lseLo, [Bool](repeating: false, count: block))
        }
    }

    package func makeWorkspace() -> Workspace { Workspace(block: rowsPerBlock, nk: shape.nk, dv: shape.dv) }

    /// Encloses rows `i0..<i0 + count` (count ≤ `rowsPerBlock`) of flat query head `f`:
    /// writes ô to `mid` and e to `radius`, each `count × d_v` row-major, and each row's LSE
    /// enclosure and masked flag to the workspace. Rows with no visible key are 0 with e = 0 (exact).
    ///
    /// Only the keys some row of the block can see are multiplied (the union of the rows' windows,
    /// `JudgedScores.keyRange`), so windows and causal masks cost their visible fraction.
    package func enclose(
        head f: Int, rows i0: Int, count: Int, workspace ws: Workspace,
        mid: UnsafeMutablePointer<Double>, radius: UnsafeMutablePointer<Double>
    ) {
        let (nq, nk, d, dv) = (shape.nq, shape.nk, shape.d, shape.dv)
        let g = shape.kvHead(forQueryHead: f)
        let w = dv + 2
        var c0 = nk, c1 = -1
        var spans = [ClosedRange<Int>?](repeating: nil, count: count)
        for r in 0..<count {
            spans[r] = model.visibleSpan(head: f, row: i0 + r)
            if let kr = spans[r] { c0 = min(c0, kr.lowerBound); c1 = max(c1, kr.upperBound) }
        }
        let sink = model.sink(head: f)
        guard c0 <= c1 else {  // every row of the block sees no key
            for r in 0..<count { setMasked(r, sink: sink, ws: ws, mid: mid + r * dv, radius: radius + r * dv) }
            return
        }
        let cols = c1 - c0 + 1
        let terms = model.hasTerms
        let biasValues = model.model.bias?.values ?? []
        q.withUnsafeBufferPointer { qb in
            k.withUnsafeBufferPointer { kb in
                vExt.withUnsafeBufferPointer { vb in
                    ws.scores.withUnsafeMutableBufferPointer { sb in
                        ws.pv.withUnsafeMutableBufferPointer { pb in
                            ws.maskBytes.withUnsafeMutableBufferPointer { mb in
                                ws.delta.withUnsafeMutableBufferPointer { db in
                                    biasValues.withUnsafeBufferPointer { bias in
                                        let qp = qb.baseAddress! + (f * nq + i0) * d
                                        let sp = sb.baseAddress!, pp = pb.baseAddress!, maskAll = mb.baseAddress!
                                        let explicit = model.model.mask.explicit != nil
                                        // The key tiles some row of the block sees: all of c0...c1 without an explicit
                                        // mask, else the runs of 64-key tiles with a visible key (fully masked tiles are
                                        // never multiplied, so block masks cost their visible fraction).
                                        let segments =
                                            explicit
                                            ? liveSegments(
                                                head: f, rows: i0, count: count, spans: spans, first: c0, cols: cols,
                                                mask: maskAll) : [0..<cols]
                                        // Scores ĝ = fl(Q·Kᵀ) over the live keys: alpha = 1, so BLAS never rounds a scaled operand (§0).
                                        // Dead tiles keep stale values, which the masked loops never read (hidden lanes).
                                        for seg in segments {
                                            cblas_dgemm(
                                                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(seg.count),
                                                Int32(d), 1, qp, Int32(d),
                                                kb.baseAddress! + (g * nk + c0 + seg.lowerBound) * d, Int32(d), 0,
                                                sp + seg.lowerBound, Int32(nk))
                                        }
                                        var xHat = [Double](repeating: 0, count: count), mRow = xHat,
                                            ok = [Bool](repeating: true, count: count)
                                        var termRows = [TermRow?](repeating: nil, count: count)
                                        for r in 0..<count {
                                            let row = sp + r * nk
                                            ws.masked[r] = false
                                            guard let kr = spans[r] else {
                                                ws.masked[r] = true
                                                for j in 0..<cols { row[j] = 0 }
                                                continue
                                            }
                                            let lo = kr.lowerBound - c0, hi = kr.upperBound - c0
                                            let mk = maskAll + r * nk
                                            if terms {
                                                termRows[r] = termWeights(
                                                    head: f, row: i0 + r, lo: lo, hi: hi, first: c0, cols: cols,
                                                    scores: row,
                                                    mask: explicit ? mk : nil, delta: db.baseAddress!,
                                                    qNorm: Directed.norm2(qp + r * d, count: d), kvHead: g,
                                                    bias: bias.baseAddress)
                                                if termRows[r] == nil { ws.masked[r] = true }
                                                continue
                                            }
                                            var m: Double
                                            if explicit {
                                                // Only the live segments: every visible key of the block lies in one,
                                                // and the second dgemm reads nothing else, so the row loops cost the
                                                // visible fraction too. A NaN of any segment survives the maximum.
                                                m = -.infinity
                                                for seg in segments {
                                                    let x = FloatExp.rowMax(
                                                        row + seg.lowerBound, mask: mk + seg.lowerBound,
                                                        count: seg.count)
                                                    if x.isNaN || x > m { m = x }
                                                }
                                                if m == -.infinity {
                                                    ws.masked[r] = true; for j in 0..<cols { row[j] = 0 }; continue
                                                }
                                                m = sLo * m
                                                guard m.isFinite else {
                                                    ok[r] = false; for j in 0..<cols { row[j] = 0 }; continue
                                                }
                                                // X̂ is still a sum of the same terms in some order (§0), so γ_n holds.
                                                var x = 0.0
                                                for seg in segments {
                                                    x += FloatExp.weights(
                                                        row + seg.lowerBound, mask: mk + seg.lowerBound,
                                                        count: seg.count, scale: sLo, max: m)
                                                }
                                                xHat[r] = x
                                            } else {
                                                // m = max_j t̂_j with t̂ = fl(ŝ·ĝ): RN is monotone and ŝ > 0, so it is fl(ŝ·max_j ĝ_j).
                                                m = sLo * FloatExp.rowMax(row + lo, count: hi - lo + 1)
                                                guard m.isFinite else {
                                                    ok[r] = false; for j in 0..<cols { row[j] = 0 }; continue
                                                }
                                                for j in 0..<lo { row[j] = 0 }
                                                xHat[r] = FloatExp.weights(
                                                    row + lo, count: cols - lo, visible: hi - lo + 1, scale: sLo, max: m
                                                )
                                            }
                                            mRow[r] = m
                                        }
                                        // [N̂ | L̂ | K̂] = Ŵ · [V | 1 | ‖k‖] over the live keys (ŵ = 0 elsewhere): one dgemm
                                        // per segment, the partial sums added, so each entry is still a sum of the
                                        // exact products in some order (§0).
                                        ws.pvPart.withUnsafeMutableBufferPointer { part in
                                            for (n, seg) in segments.enumerated() {
                                                cblas_dgemm(
                                                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(count), Int32(w),
                                                    Int32(seg.count), 1, sp + seg.lowerBound, Int32(nk),
                                                    vb.baseAddress! + (g * nk + c0 + seg.lowerBound) * w, Int32(w), 0,
                                                    n == 0 ? pp : part.baseAddress!, Int32(w))
                                                if n > 0 { for x in 0..<count * w { pp[x] += part[x] } }
                                            }
                                        }
                                        for r in 0..<count {
                                            if ws.masked[r] {
                                                setMasked(
                                                    r, sink: sink, ws: ws, mid: mid + r * dv, radius: radius + r * dv)
                                                continue
                                            }
                                            let out = pp + r * w
                                            let L: Double, rho: Double, shift: Double
                                            if let t = termRows[r] {
                                                // The sink's weight joins the denominator (§7): one more term of L̂'s sum.
                                                L = out[dv] + t.sinkWeight
                                                rho = termRowFactor(t, lHat: L)
                                                shift = t.shift
                                            } else {
                                                L = out[dv]
                                                rho =
                                                    ok[r]
                                                    ? rowFactor(
                                                        qNorm: Directed.norm2(qp + r * d, count: d), m: mRow[r],
                                                        xHat: xHat[r],
                                                        lHat: L, kHat: out[dv + 1], kvHead: g) : .infinity
                                                shift = mRow[r]
                                            }
                                            (ws.lseLo[r], ws.lseHi[r]) = logSumExp(m: shift, lHat: L, rho: rho, ws: ws)
                                            for c in 0..<dv {
                                                let o = L > 0 ? out[c] / L : .nan
                                                mid[r * dv + c] = o
                                                radius[r * dv + c] = entryBound(rho: rho, o: o, column: g * dv + c)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The explicit-mask bytes of rows i0..<i0 + count over the block's keys (row r at mask + r·n_k,
    /// 1 = visible: inside the row's window and shown by the mask), and the runs of 64-key tiles that
    /// hold a visible key of some row.
    private func liveSegments(
        head f: Int, rows i0: Int, count: Int, spans: [ClosedRange<Int>?], first c0: Int, cols: Int,
        mask: UnsafeMutablePointer<UInt8>
    ) -> [Range<Int>] {
        let tile = 64
        var live = [Bool](repeating: false, count: (cols + tile - 1) / tile)
        guard let grid = model.model.mask.explicit else { return [0..<cols] }
        let (b, h) = model.location(f), st = grid.elementStrides
        grid.values.withUnsafeBufferPointer { values in
            for r in 0..<count {
                let mk = mask + r * shape.nk
                for j in 0..<cols { mk[j] = 0 }
                guard let kr = spans[r] else { continue }
                // The grid's row, read directly (broadcast axes have stride 0): the subscript's index, hoisted.
                let base = b * st.batch + h * st.head + (i0 + r) * st.row
                for j in (kr.lowerBound - c0)...(kr.upperBound - c0) where values[base + (c0 + j) * st.col] {
                    mk[j] = 1
                    live[j / tile] = true
                }
            }
        }
        var segments: [Range<Int>] = []
        var t = 0
        while t < live.count {
            guard live[t] else { t += 1; continue }
            var e = t
            while e < live.count && live[e] { e += 1 }
            segments.append((t * tile)..<min(cols, e * tile))
            t = e
        }
        return segments
    }

    /// A row with no visible key: output 0 exactly (e = 0), LSE −∞, or σ when a sink fills the denominator.
    private func setMasked(
        _ r: Int, sink: Double?, ws: Workspace, mid: UnsafeMutablePointer<Double>,
        radius: UnsafeMutablePointer<Double>
    ) {
        ws.masked[r] = true
        (ws.lseLo[r], ws.lseHi[r]) = sink.map { ($0, $0) } ?? (-.infinity, -.infinity)
        for c in 0..<shape.dv { mid[c] = 0; radius[c] = 0 }
    }

    /// The LSE's enclosure (Proofs/certified-lse.md §2): LSE = m + log S with S = Σ_visible e^{t_j − m}
    /// ∈ [L_lo(1 − ρ), L_hi(1 + ρ) + n·2⁻¹⁰⁰⁷], L_lo = max(L̂/(1 + γ_n), 1), L_hi = L̂/(1 − γ_n);
    /// log and the sum by MPFR in directed rounding. (−∞, +∞) when ρ is not finite.
    func logSumExp(m: Double, lHat: Double, rho: Double, ws: Workspace) -> (Double, Double) {
        typealias D = Directed
        guard rho.isFinite, lHat.isFinite else { return (-.infinity, .infinity) }
        let lLo = max(D.divDown(lHat, gammaNUp), 1), lHi = D.div(lHat, gammaNDown)
        let sLow = D.mulDown(lLo, D.subDown(1, rho))  // mutation-check: lse-float
        let sHigh = D.add(D.mul(lHi, D.add(1, rho)), Double(nTerms) * 0x1p-1007)
        let (a, b) = (ws.logRegister, ws.sumRegister)
        var lo = -Double.infinity
        if sLow > 0 {
            a.set(sLow, rounding: .down)  // exact
            a.log(a, rounding: .down)
            b.set(m, rounding: .down)  // exact
            b.add(b, a, rounding: .down)
            lo = b.double(rounding: .down)
        }
        a.set(sHigh, rounding: .up)
        a.log(a, rounding: .up)
        b.set(m, rounding: .up)
        b.add(b, a, rounding: .up)
        return (lo, b.double(rounding: .up))
    }

    /// ρ_i of §4: the relative factor of the score and exp errors, +∞ if its premises fail.
    @inline(__always) func rowFactor(qNorm: Double, m: Double, xHat: Double, lHat: Double, kHat: Double, kvHead g: Int)
        -> Double
    {
        typealias D = Directed
        let n = Double(nTerms)
        let eps = FloatExp.relativeErrorBound
        let z = D.mul(D.mul(sHi, gammaD), qNorm)  // z = sHi·γ_d·‖q_i‖
        let bm = D.mul(b, abs(m))
        let dMax = D.add(D.add(D.add(D.mul(a1, FloatExp.tailThreshold), bm), D.mul(z, kNormMax[g])), c0)
        guard dMax <= 0.25 else { return .infinity }  // also false for NaN
        // L_b ≥ max(L̂/(1+γ_n), 1): the exact bulk sum holds ŵ = exp(0) = 1.
        let lLow = max(D.divDown(lHat, gammaNUp), 1)
        let xUp = D.div(D.add(xHat, n * 0x1p-1074), gammaNDown)
        let kUp = D.div(D.add(kHat, n * 0x1p-1074), gammaNDown)
        let ratio = D.add(D.add(D.div(D.add(D.mul(a1, xUp), D.mul(z, kUp)), lLow), bm), c0)
        let growth = D.add(1, D.mul(2, dMax))  // e^δ − 1 ≤ δ(1 + 2δ_max)
        let oneMinusEps = D.subDown(1, eps)
        let kappa = D.div(D.add(D.mul(dMax, growth), eps), oneMinusEps)
        guard kappa < 0.5 else { return .infinity }
        let rho = D.div(D.add(D.mul(growth, ratio), eps), D.mulDown(oneMinusEps, D.subDown(1, kappa)))
        return rho.isFinite ? rho : .infinity
    }

    /// e = R_c·ρ + 2γ_n/(1−γ_n)·M_c + u/(1−u)·|ô| + n·2⁻⁹⁹⁰·(R_c + 1), every step rounded up (§5).
    @inline(__always) func entryBound(rho: Double, o: Double, column: Int) -> Double {
        typealias D = Directed
        guard o.isFinite, rho.isFinite else { return .infinity }
        let R = range[column]
        let t1 = D.mul(R, rho)
        let t3 = D.mul(g3, vMax[column])
        let t4 = D.mul(u1, abs(o))
        let absTerm = D.mul(Double(nTerms) * 0x1p-990, D.add(R, 1))
        let e = D.add(D.add(D.add(t1, t3), t4), absTerm)
        return e.isFinite ? e : .infinity  // mutation-check: float-e
    }
}
