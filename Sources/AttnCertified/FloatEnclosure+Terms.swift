import AttnCore

/// One row of the float engine with score terms (Proofs/float-certified-engine.md §7): the shift M,
/// the sums of the weights' errors, and the sink's weight.
struct TermRow {
    /// M = max(max_j τ̂_j, σ): every exponent fl(τ̂_j − M) and σ − M is ≤ 0, and one of them is 0.
    var shift: Double
    /// X̂ = fl(Σ ŵ|x̂|) (sink included), D̂ = fl(Σ ŵΔ̂), max Δ̂ over the bulk.
    var x: Double, d: Double, deltaMax: Double
    /// ŵ_σ = FloatExp(σ − M) (0 without a sink or in the tail): a key with value row 0.
    var sinkWeight: Double
    /// False when the bound's premises fail (a non-finite score, a tail key too uncertain): e = +∞.
    var ok: Bool
}

extension FloatAttentionEngine {
    /// Row i's weights under score terms (§7), in place over the block's keys `first...first + cols − 1`
    /// of `scores` (ĝ on entry, ŵ on return, 0 outside the row's visible keys): τ̂ and Δ̂ by
    /// `FloatScoreTerms.scores`, M = max(max τ̂, σ), then ŵ by `FloatScoreTerms.weights`.
    /// Returns nil when the explicit mask hides every key (a masked row).
    /// - Parameters: lo, hi: the row's first and last visible key, relative to `first`;
    ///   mask: per key of the block (explicit masks only); bias: the bias grid's values.
    func termWeights(
        head f: Int, row i: Int, lo: Int, hi: Int, first: Int, cols: Int, scores row: UnsafeMutablePointer<Double>,
        mask: UnsafeMutablePointer<UInt8>?, delta: UnsafeMutablePointer<Double>, qNorm: Double, kvHead g: Int,
        bias: UnsafePointer<Double>?
    ) -> TermRow? {
        let start = mask == nil ? lo : 0, len = mask == nil ? hi - lo + 1 : cols
        let sm = model.model
        let diag = sm.mask.alignment.diagonal(row: i, queries: shape.nq, keys: shape.nk)
        let params = FloatScoreTerms.Row(
            s: sLo, b: b, zq: Directed.mul(Directed.mul(sHi, gammaD), qNorm), c0: c0, cap: sm.softcap,
            slope: sm.alibiSlopes == nil ? nil : model.slope(head: f), diag: Double(diag - (first + start)))
        var biasRow: UnsafePointer<Double>? = nil, stride = 0
        if let bias, let grid = sm.bias {
            let (bb, h) = model.location(f), st = grid.elementStrides
            biasRow = bias + bb * st.batch + h * st.head + i * st.row + (first + start) * st.col
            stride = st.col
        }
        kNorms.withUnsafeBufferPointer { kn in
            FloatScoreTerms.scores(
                row + start, delta: delta, mask: mask, count: len, params, bias: biasRow, biasStride: stride,
                kNorm: kn.baseAddress! + g * shape.nk + first + start)
        }
        let m = mask.map { FloatExp.rowMax(row, mask: $0, count: cols) } ?? FloatExp.rowMax(row + lo, count: len)
        let sigma = model.sink(head: f)
        if m == -.infinity {  // the explicit mask hides every key
            for j in 0..<cols { row[j] = 0 }
            return nil
        }
        guard m.isFinite else {
            for j in 0..<cols { row[j] = 0 }
            return TermRow(shift: 0, x: 0, d: 0, deltaMax: 0, sinkWeight: 0, ok: false)
        }
        let M = max(m, sigma ?? -.infinity)
        for j in 0..<start { row[j] = 0 }
        let sums = FloatScoreTerms.weights(row + start, delta: delta, mask: mask, count: len, shift: M)
        for j in (start + len)..<cols { row[j] = 0 }
        var sinkWeight = 0.0, x = sums.x
        if let sigma {
            let xs = sigma - M  // mutation-check: float-sink
            if xs >= -FloatExp.tailThreshold {
                sinkWeight = FloatExp.exp(xs)
                x += sinkWeight * -xs  // X̂ over the n + 1 terms, in some order (§0)
            }
        }
        return TermRow(shift: M, x: x, d: sums.d, deltaMax: sums.deltaMax, sinkWeight: sinkWeight, ok: sums.tailOK)
    }

    /// ρ_i of §7: as `rowFactor`, with δ_j ≤ a|x̂_j| + Δ_j (Δ_j covers every score error, §7), so
    /// Σ_bulk ŵ_jδ_j ≤ a·X + D. +∞ if the premises fail.
    func termRowFactor(_ t: TermRow, lHat: Double) -> Double {
        typealias D = Directed
        guard t.ok else { return .infinity }
        let n = Double(nTerms)
        let eps = FloatExp.relativeErrorBound
        let slack = 1 + 0x1p-40  // Δ̂ evaluated in round to nearest (§7, Lemma S)
        let dMax = D.add(D.mul(u1, FloatExp.tailThreshold), D.mul(t.deltaMax, slack))
        guard dMax <= 0.25 else { return .infinity }  // also false for NaN
        let lLow = max(D.divDown(lHat, gammaNUp), 1)  // L_b ≥ 1: it holds ŵ = exp(0) = 1 (a key or the sink)
        let xUp = D.div(D.add(t.x, n * 0x1p-1074), gammaNDown)
        let dUp = D.mul(D.div(D.add(t.d, n * 0x1p-1074), gammaNDown), slack)
        let ratio = D.div(D.add(D.mul(u1, xUp), dUp), lLow)
        let growth = D.add(1, D.mul(2, dMax))
        let oneMinusEps = D.subDown(1, eps)
        let kappa = D.div(D.add(D.mul(dMax, growth), eps), oneMinusEps)
        guard kappa < 0.5 else { return .infinity }
        let rho = D.div(D.add(D.mul(growth, ratio), eps), D.mulDown(oneMinusEps, D.subDown(1, kappa)))
        return rho.isFinite ? rho : .infinity
    }
}
