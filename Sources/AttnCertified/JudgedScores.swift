import AttnCore

/// The score model (`ScoreModel`, AttnCore) as the judge reads it, bound to one problem's shape
/// (Proofs/certified-score-model.md):
///
///   score_ij = softcap_c(s·⟨q_i, k_j⟩) + bias_ij − slope_h·|i′ − j|,
///
/// key j visible to row i as `AttentionMask` says; a per-head sink σ_h adds exp(σ_h) to the
/// denominator and has no value row. Every number of the model is the exact value of a double, so
/// the GMP/MPFR engine encloses the exact scores. A row with no visible key is defined as output 0
/// and LSE −∞ (σ_h with a sink).
///
/// This is a view by flat query head f = b·heads_q + h over the model from AttnCore (the one score
/// model); the judge never imports the kernels it certifies. Immutable once built.
package struct JudgedScores: Sendable {
    package let model: ScoreModel
    package let batch: Int, headsQ: Int, nq: Int, nk: Int

    /// - Throws: `AttnError.usage` naming the term whose shape does not broadcast to the problem.
    package init(_ model: ScoreModel, shape: AttentionShape) throws {
        try model.validate(for: shape)
        self.model = model
        (batch, headsQ, nq, nk) = (shape.batch, shape.headsQ, shape.nq, shape.nk)
    }

    /// Whether any score term (softcap, bias, ALiBi, sinks) is present: then the GMP/MPFR engine
    /// encloses scores one by one (the plain path subtracts exact integer dot products), and the
    /// float engine leaves the row to it.
    package var hasTerms: Bool {
        model.softcap != nil || model.bias != nil || model.alibiSlopes != nil || model.sinks != nil
    }

    /// The keys `lo...hi` that the alignment and window allow to row i; nil when none. The
    /// explicit mask may hide some of them (`isVisible`).
    @inline(__always) package func keyRange(row i: Int) -> ClosedRange<Int>? {
        let r = model.mask.visibleKeys(row: i, queries: nq, keys: nk)  // mutation-check: window-edges
        return r.isEmpty ? nil : r.lowerBound...(r.upperBound - 1)
    }

    /// The first and last key row i of flat head f sees (window and explicit mask), or nil when it
    /// sees none: the keys a row block must multiply, so that block masks cost their visible fraction.
    package func visibleSpan(head f: Int, row i: Int) -> ClosedRange<Int>? {
        guard let r = keyRange(row: i) else { return nil }
        guard model.mask.explicit != nil else { return r }
        guard let lo = r.first(where: { explicitlyVisible(head: f, row: i, key: $0) }) else { return nil }
        let hi = r.reversed().first { explicitlyVisible(head: f, row: i, key: $0) }!
        return lo...hi
    }

    /// (batch, head within the batch) of flat query head f.
    @inline(__always) func location(_ f: Int) -> (Int, Int) { (f / headsQ, f % headsQ) }

    /// Whether the explicit mask (if any) shows key j to row i of flat head f (the window aside).
    @inline(__always) package func explicitlyVisible(head f: Int, row i: Int, key j: Int) -> Bool {
        guard let m = model.mask.explicit else { return true }
        let (b, h) = location(f)
        return m[batch: b, head: h, row: i, col: j]
    }

    /// The visible keys of row i of flat head f, in increasing order, into `keys` (cleared first).
    package func visibleKeys(head f: Int, row i: Int, into keys: inout [Int]) {
        keys.removeAll(keepingCapacity: true)
        guard let r = keyRange(row: i) else { return }
        for j in r where explicitlyVisible(head: f, row: i, key: j) { keys.append(j) }
    }

    /// bias_ij of flat head f (0 without a bias).
    @inline(__always) package func bias(head f: Int, row i: Int, key j: Int) -> Double {
        guard let bias = model.bias else { return 0 }
        let (b, h) = location(f)
        return bias[batch: b, head: h, row: i, col: j]
    }

    /// The ALiBi slope of flat head f (0 without ALiBi).
    @inline(__always) package func slope(head f: Int) -> Double {
        guard let s = model.alibiSlopes else { return 0 }
        let (b, h) = location(f)
        return s[batch: b, head: h, row: 0, col: 0]
    }

    /// σ of flat head f, or nil.
    @inline(__always) package func sink(head f: Int) -> Double? {
        let (b, h) = location(f)
        return model.sink(batch: b, head: h)
    }

    /// |i′ − j|, the ALiBi distance.
    @inline(__always) package func distance(row i: Int, key j: Int) -> Int {
        abs(model.mask.alignment.diagonal(row: i, queries: nq, keys: nk) - j)
    }
}
