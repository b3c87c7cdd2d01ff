import AttnCore
import Foundation

/// What every worker shares on the scored route: the model, the precision P_t of the score
/// enclosures, the scale enclosed at P_t and the softcap c (Proofs/certified-score-model.md §2).
/// Immutable once built.
final class TermPlan: @unchecked Sendable {
    let model: JudgedScores
    /// P_t = P + 64 + ⌈log₂ max|score|⌉ bits: a score enclosed at P_t bits, minus the shift, is
    /// still narrower than 2^-(P+60), so Lemma 3's δ ≤ 2 and Lemma 4's width test hold.
    let scorePrecision: Int
    let scale: ScaleEnclosure

    /// - Parameters:
    ///   - magnitudeLog2: an upper bound on log₂ of max |s·⟨q, k⟩| over the problem.
    init(model: JudgedScores, scale: Scale, d: Int, workingPrecision wp: Int, magnitudeLog2: Double) throws {
        self.model = model
        var m = max(magnitudeLog2, 0)
        let sm = model.model
        if let c = sm.softcap { m = max(m, log2(c)) }
        let span = Double(model.nk + model.nq)
        var terms: [Double] = sm.bias?.values ?? []
        terms += (sm.alibiSlopes?.values ?? []).map { $0 * span }
        terms += sm.sinks?.values ?? []
        for x in terms where x != 0 { m = max(m, log2(abs(x))) }
        let bits: Double = min(m + 4, 65536)
        scorePrecision = wp + 64 + Int(bits.rounded(.up))
        self.scale = try ScaleEnclosure(scale, d: d, precision: scorePrecision)
    }
}

/// One worker's registers for the scored route: per visible key the enclosure [tLo, tHi] of its
/// score, the shift M = max(max tHi, σ), and scratch. Not Sendable: one per worker.
final class TermRegisters {
    let model: JudgedScores
    let plan: TermPlan
    let tLo: [MPFRFloat], tHi: [MPFRFloat]
    /// The exact real M (an MPFR number) every score is measured from: M ≥ every tHi and σ.
    let shift: MPFRFloat
    let a: MPFRFloat, b: MPFRFloat, d: MPFRFloat, cap: MPFRFloat
    let num = GMPInteger()

    init(_ plan: TermPlan, keys: Int) {
        self.plan = plan
        model = plan.model
        let p = plan.scorePrecision
        tLo = (0..<keys).map { _ in MPFRFloat(precision: p) }
        tHi = (0..<keys).map { _ in MPFRFloat(precision: p) }
        (shift, a, b, d, cap) = (
            MPFRFloat(precision: p), MPFRFloat(precision: p), MPFRFloat(precision: p), MPFRFloat(precision: p),
            MPFRFloat(precision: p)
        )
        if let c = model.model.softcap { cap.set(c, rounding: .nearest) }  // exact: p ≥ 53
    }

    /// xLo ≤ t_t − M ≤ xHi ≤ 0 (one directed rounding each, to the working precision).
    func difference(_ t: Int, into xLo: MPFRFloat, _ xHi: MPFRFloat) {
        xLo.sub(tLo[t], shift, rounding: .down)
        xHi.sub(tHi[t], shift, rounding: .up)  // ≤ 0: M ≥ tHi, and rounding up a value ≤ 0 stays ≤ 0
    }

    /// xLo ≤ σ − M ≤ xHi ≤ 0.
    func sinkDifference(_ sigma: Double, into xLo: MPFRFloat, _ xHi: MPFRFloat) {
        a.set(sigma, rounding: .nearest)  // exact
        xLo.sub(a, shift, rounding: .down)
        xHi.sub(a, shift, rounding: .up)
    }
}

extension RowWorker {
    /// Encloses score_ij = softcap_c(s·D_ij·2^E) + bias_ij − slope·|i′ − j| for every visible slot
    /// (Proofs/certified-score-model.md §2): each operation is monotone in its interval argument
    /// (tanh increasing, c > 0), so rounding the lower end down and the upper end up encloses the
    /// exact score. Then sets M = max(max_t tHi_t, σ).
    func encloseScoresWithTerms(_ i: Int, head f: Int, of head: PreparedHead, _ n: Int, _ r: TermRegisters) {
        let s = r.plan.scale, model = r.model
        let slope = model.slope(head: f)
        for t in 0..<n {
            let lo = r.tLo[t], hi = r.tHi[t]
            // a = s·D·2^E.
            if head.dotsFitInt128 { r.num.set(dots128[t]) } else { r.num.set(dotsBig[t]) }
            var e = head.scoreExponent
            if s.isRational, let an = s.numerator, let m = s.denominator {
                r.num.mul(r.num, an)
                if let k = s.denominatorLog2 { e -= k }
                lo.set(r.num, timesTwoTo: e, rounding: .down)
                hi.set(r.num, timesTwoTo: e, rounding: .up)
                if s.denominatorLog2 == nil {
                    lo.div(lo, m, rounding: .down)
                    hi.div(hi, m, rounding: .up)
                }
            } else {
                let positive = r.num.sign >= 0
                lo.set(r.num, timesTwoTo: e, rounding: .down)
                hi.set(r.num, timesTwoTo: e, rounding: .up)
                lo.mul(lo, positive ? s.lower : s.upper, rounding: .down)
                hi.mul(hi, positive ? s.upper : s.lower, rounding: .up)
            }
            if model.model.softcap != nil {  // c·tanh(a/c): increasing in a
                lo.div(lo, r.cap, rounding: .down)
                hi.div(hi, r.cap, rounding: .up)
                lo.tanh(lo, rounding: .down)
                hi.tanh(hi, rounding: .up)  // mutation-check: softcap-enclosure
                lo.mul(lo, r.cap, rounding: .down)
                hi.mul(hi, r.cap, rounding: .up)
            }
            let j = keyIndex[t]
            if model.model.bias != nil {
                r.a.set(model.bias(head: f, row: i, key: j), rounding: .nearest)  // exact
                lo.add(lo, r.a, rounding: .down)
                hi.add(hi, r.a, rounding: .up)
            }
            if slope != 0 {
                r.a.set(slope, rounding: .nearest)  // exact
                r.d.set(model.distance(row: i, key: j), rounding: .nearest)  // exact: dist < 2⁶³, P_t > 64
                r.b.mul(r.a, r.d, rounding: .up)  // ≥ slope·dist
                r.a.mul(r.a, r.d, rounding: .down)  // ≤ slope·dist
                lo.sub(lo, r.b, rounding: .down)
                hi.sub(hi, r.a, rounding: .up)
            }
            if t == 0 || hi.compare(r.shift) > 0 { r.shift.set(hi, rounding: .up) }  // exact copy
        }
        if let sigma = model.sink(head: f), r.shift.compare(sigma) < 0 { r.shift.set(sigma, rounding: .up) }
    }
}
