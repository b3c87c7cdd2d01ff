import AttnCore
import CGMP

/// One worker's scratch registers and the per-row algorithm (Proofs/certified-enclosure.md):
///
/// 1. D_ij = Σ_c Q_ic K_jc exactly (Int128 or GMP); Δ_j = D_ij − max_j D_ij ≤ 0, exact.
/// 2. x_j = s·Δ_j·2^E ≤ 0 enclosed in [xLo, xHi] (exact rational rounded once per
///    direction when s is rational; by s's enclosure otherwise).
/// 3. w_j = exp(x_j): integers W_j, δ_j with w_j·2^F ∈ [W_j, W_j + δ_j], by the exp
///    tables (`TableExp`, Lemma 4) or by MPFR's exp in directed rounding (Lemma 3);
///    x_j < −cutoff gives [0, 1].
/// 4. N_c = Σ_j W_j V_jc exactly; numerator ∈ [N_c − Σ δ_j V⁻_jc, N_c + Σ δ_j V⁺_jc],
///    denominator ∈ [L, L + Σ δ_j] with L = Σ W_j ≥ 2^F (the max key has w = 1 exactly).
/// 5. Output = numerator/denominator by outward interval division, times 2^(exponent of V).
final class RowWorker {
    let plan: EnclosurePlan
    let scale: ScaleEnclosure
    let keys: Int
    /// Prepared scores when the model has terms (softcap, bias, ALiBi, sinks): the scored route
    /// (`RowEnclosure+Terms.swift`); nil for the plain route of exact integer score differences.
    let terms: TermRegisters?
    /// Limbs of one weight W_j ≤ 2^F.
    let weightLimbs: Int
    let dots128: UnsafeMutablePointer<Int128>
    let dotsBig: [GMPInteger]
    /// The visible keys of the current row, in order: slot t holds key `keyIndex[t]`.
    let keyIndex: UnsafeMutablePointer<Int>
    /// W_j, little-endian, `weightLimbs` limbs each; slot n (after the visible keys) holds the sink's.
    let weights: UnsafeMutablePointer<UInt>
    /// δ_j.
    let spread: UnsafeMutablePointer<Int>
    /// Per output column: Σ W_j V⁺_jc and Σ W_j V⁻_jc (weightLimbs + 2 limbs each), and δ-sums.
    private var positive: UnsafeMutablePointer<UInt>
    private var negative: UnsafeMutablePointer<UInt>
    private var plus: UnsafeMutablePointer<Int128>
    private var minus: UnsafeMutablePointer<Int128>
    private var columns = 0
    private let sumLimbs: UnsafeMutablePointer<UInt>
    let z = GMPInteger(), z2 = GMPInteger(), num = GMPInteger(), sumW = GMPInteger()
    private let lHi = GMPInteger(), nLo = GMPInteger(), nHi = GMPInteger()
    /// max_j D_ij of the current row (plain route), for the LSE.
    private var rowMax128: Int128 = 0
    private let rowMaxBig = GMPInteger()
    let xLo: MPFRFloat, xHi: MPFRFloat
    private let yLo: MPFRFloat, yHi: MPFRFloat, t: MPFRFloat
    /// The LSE's registers: the shift M and the log of the weight sum.
    let lseLo: MPFRFloat, lseHi: MPFRFloat, logSum: MPFRFloat
    private let outLo: MPFRFloat, outHi: MPFRFloat, width: MPFRFloat
    private let tableExp: TableExp?
    /// a when s = a/2^k with a < 2⁶³ (the MPFR-free route), else nil.
    private let directNumerator: UInt?

    init(plan: EnclosurePlan, scale: ScaleEnclosure, keys: Int, needsBigDots: Bool, terms: TermPlan? = nil) {
        self.plan = plan
        self.scale = scale
        self.keys = keys
        self.terms = terms.map { TermRegisters($0, keys: keys) }
        weightLimbs = plan.weightBits / 64 + 1
        dots128 = .allocate(capacity: keys)
        dotsBig = needsBigDots ? (0..<keys).map { _ in GMPInteger() } : []
        keyIndex = .allocate(capacity: keys)
        weights = .allocate(capacity: (keys + 1) * weightLimbs)
        spread = .allocate(capacity: keys + 1)
        sumLimbs = .allocate(capacity: weightLimbs + 2)
        (positive, negative, plus, minus) = (
            .allocate(capacity: 0), .allocate(capacity: 0),
            .allocate(capacity: 0), .allocate(capacity: 0)
        )
        let wp = plan.workingPrecision
        (xLo, xHi, yLo, yHi, t) = (
            MPFRFloat(precision: wp), MPFRFloat(precision: wp), MPFRFloat(precision: wp),
            MPFRFloat(precision: wp), MPFRFloat(precision: wp)
        )
        (outLo, outHi) = (MPFRFloat(precision: plan.precision), MPFRFloat(precision: plan.precision))
        width = MPFRFloat(precision: plan.precision + 2)
        let lp = max(wp, terms?.scorePrecision ?? 0)
        (lseLo, lseHi, logSum) = (MPFRFloat(precision: lp), MPFRFloat(precision: lp), MPFRFloat(precision: wp))
        tableExp = plan.method == .tables ? TableExp(limbs: plan.tableLimbs) : nil
        if scale.denominatorLog2 != nil, let a = scale.numerator?.intValue, a > 0 {
            directNumerator = UInt(a)
        } else {
            directNumerator = nil
        }
    }

    deinit {
        dots128.deallocate(); keyIndex.deallocate(); weights.deallocate(); spread.deallocate(); sumLimbs.deallocate()
        positive.deallocate(); negative.deallocate(); plus.deallocate(); minus.deallocate()
    }

    /// Encloses output row i of `head` over the visible keys `visible` (increasing), and its
    /// log-sum-exp. Rows of a model with score terms take the scored route (flat head `f` picks the
    /// bias, slope and sink).
    ///
    /// Postcondition: for each column c, lo[c] ≤ O_ic ≤ hi[c] (Doubles rounded outward from the
    /// p-bit enclosure), and lse.lo ≤ log Σ_visible exp(score_ij) (+ exp σ) ≤ lse.hi. A row with no
    /// visible key (and no sink) is output 0 and LSE −∞ exactly. Returns an upper bound on the widest
    /// p-bit enclosure hi − lo in the row.
    func row(
        _ i: Int, head f: Int = 0, of head: PreparedHead, visible: [Int], lo: inout [Double], hi: inout [Double],
        lse: inout (lo: Double, hi: Double)
    ) -> Double {
        let n = visible.count
        for t in 0..<n { keyIndex[t] = visible[t] }
        let sink = terms?.model.sink(head: f)
        if n == 0 {  // no visible key: output 0 exactly; LSE −∞, or σ when a sink fills the denominator
            for c in 0..<head.v.cols { lo[c] = 0; hi[c] = 0 }
            lse = sink.map { ($0, $0) } ?? (-.infinity, -.infinity)
            return 0
        }
        let wl = weightLimbs
        for k in 0..<(wl + 2) { sumLimbs[k] = 0 }
        var spreadSum = 0
        if let terms {
            computeDots(i, head, n, subtractMax: false)
            encloseScoresWithTerms(i, head: f, of: head, n, terms)
            for t in 0...(sink == nil ? n - 1 : n) {
                if t < n { terms.difference(t, into: xLo, xHi) } else { terms.sinkDifference(sink!, into: xLo, xHi) }
                encloseWeight(t)
                addCarry(__gmpn_add_n(sumLimbs, sumLimbs, weights + t * wl, wl), to: sumLimbs + wl)
                spreadSum += spread[t]
            }
        } else {
            computeDots(i, head, n, subtractMax: true)
            let direct = directNumerator != nil && head.dotsFitInt128 && tableExp != nil
            for j in 0..<n {
                if !(direct && encloseDyadicWeight(j, head)) {
                    encloseScore(j, head)
                    encloseWeight(j)
                }
                let carry = __gmpn_add_n(sumLimbs, sumLimbs, weights + j * wl, wl)
                addCarry(carry, to: sumLimbs + wl)
                spreadSum += spread[j]
            }
        }
        sumW.setLimbs(sumLimbs, count: wl + 2)
        lse = logSumExp(head, spreadSum: spreadSum)
        return combine(head, n, spreadSum: spreadSum, lo: &lo, hi: &hi)
    }

    /// The row's LSE = M + log(Σ w_j) with Σ w_j·2^F ∈ [ΣW, ΣW + Σδ] (Proofs/certified-lse.md):
    /// M = s·max_j D_ij·2^E on the plain route (enclosed by the scale's enclosure), the exact
    /// shift of the scored route otherwise.
    private func logSumExp(_ head: PreparedHead, spreadSum: Int) -> (lo: Double, hi: Double) {
        if let terms {
            lseLo.set(terms.shift, rounding: .down)  // exact: same precision
            lseHi.set(terms.shift, rounding: .up)
        } else {
            if head.dotsFitInt128 { z.set(rowMax128) } else { z.set(rowMaxBig) }
            var e = head.scoreExponent
            if scale.isRational, let a = scale.numerator, let m = scale.denominator {
                z.mul(z, a)
                if let k = scale.denominatorLog2 { e -= k }
                lseLo.set(z, timesTwoTo: e, rounding: .down)
                lseHi.set(z, timesTwoTo: e, rounding: .up)
                if scale.denominatorLog2 == nil {
                    lseLo.div(lseLo, m, rounding: .down)
                    lseHi.div(lseHi, m, rounding: .up)
                }
            } else {
                lseLo.set(z, timesTwoTo: e, rounding: .down)
                lseHi.set(z, timesTwoTo: e, rounding: .up)
                let positive = z.sign >= 0  // s·a ∈ [sLo·aLo, sHi·aHi] for a ≥ 0, [sHi·aLo, sLo·aHi] for a < 0
                lseLo.mul(lseLo, positive ? scale.lower : scale.upper, rounding: .down)
                lseHi.mul(lseHi, positive ? scale.upper : scale.lower, rounding: .up)
            }
        }
        let f = plan.weightBits
        logSum.set(sumW, timesTwoTo: -f, rounding: .down)
        logSum.log(logSum, rounding: .down)
        lseLo.add(lseLo, logSum, rounding: .down)
        z.set(sumW)
        z.add(spreadSum)
        logSum.set(z, timesTwoTo: -f, rounding: .up)
        logSum.log(logSum, rounding: .up)
        lseHi.add(lseHi, logSum, rounding: .up)  // mutation-check: lse-enclosure
        return (lseLo.double(rounding: .down), lseHi.double(rounding: .up))
    }

    /// Adds a carry limb into a 2-limb tail.
    @inline(__always) func addCarry(_ carry: UInt, to tail: UnsafeMutablePointer<UInt>) {
        let (s, o) = tail[0].addingReportingOverflow(carry)
        tail[0] = s
        if o { tail[1] &+= 1 }
    }

    /// Step 1: D_ij over the visible slots t (key `keyIndex[t]`), exactly; with `subtractMax`,
    /// Δ_j = D_ij − max D_ij in place. Either way the row maximum is kept for the LSE.
    func computeDots(_ i: Int, _ head: PreparedHead, _ n: Int, subtractMax: Bool) {
        let d = head.q.cols
        if head.dotsFitInt128, let qs = head.q.small, let ks = head.k.small {
            var best = Int128.min
            qs.withUnsafeBufferPointer { qb in
                ks.withUnsafeBufferPointer { kb in
                    let qi = qb.baseAddress! + i * d
                    for t in 0..<n {
                        let kj = kb.baseAddress! + keyIndex[t] * d
                        var acc: Int128 = 0
                        for c in 0..<d { acc &+= Int128(qi[c]) &* Int128(kj[c]) }  // no overflow: dotsFitInt128
                        dots128[t] = acc
                        best = max(best, acc)
                    }
                }
            }
            rowMax128 = best
            if subtractMax { for t in 0..<n { dots128[t] &-= best } }
        } else {
            var best = 0
            for t in 0..<n {
                let acc = dotsBig[t]
                acc.set(0)
                for c in 0..<d {
                    head.q.entry(i, c, into: z)
                    head.k.entry(keyIndex[t], c, into: z2)
                    acc.addProduct(z, z2)
                }
                if t == 0 || acc.compare(dotsBig[best]) > 0 { best = t }
            }
            rowMaxBig.set(dotsBig[best])
            if subtractMax { for t in 0..<n { dotsBig[t].sub(dotsBig[t], rowMaxBig) } }
        }
    }

    /// Steps 2–3 without MPFR when s = a/2^k (a machine integer): x_j = −|Δ_j|·a·2^(E−k) is an
    /// exact dyadic, so T = ⌈−x_j·2^A⌉ is formed directly (Lemma 4 with xLo = xHi = x_j).
    /// Returns false to take the general route.
    private func encloseDyadicWeight(_ j: Int, _ head: PreparedHead) -> Bool {
        guard let a = directNumerator, let k = scale.denominatorLog2, let te = tableExp else { return false }
        let (m, overflow) = dots128[j].magnitude.multipliedReportingOverflow(by: UInt128(a))
        if overflow { return false }
        let w = weights + j * weightLimbs
        let shift = head.scoreExponent - k + 64 * te.limbs
        guard let result = te.evaluate(magnitude: m, shift: shift, integerBound: plan.cutoff + 1) else {
            for i in 0..<weightLimbs { w[i] = 0 }  // −x > cutoff (Lemma 2)
            spread[j] = 1
            return true
        }
        return storeWeight(result, j, w, te)
    }

    /// Writes W_j from a table evaluation: exactly 2^F when exp is 1 (spread 0),
    /// the table's lower bound otherwise (spread 2). False when out of range.
    private func storeWeight(_ result: TableExp.Result, _ j: Int, _ w: UnsafeMutablePointer<UInt>, _ te: TableExp)
        -> Bool
    {
        let f = plan.weightBits
        switch result {
        case .one:
            for i in 0..<weightLimbs { w[i] = 0 }
            w[f / 64] = 1 << UInt(f % 64)
            spread[j] = 0
        case .bounded:
            te.lowerBound(weightBits: f, into: w, count: weightLimbs)
            spread[j] = 2
        case .outOfRange:
            return false
        }
        return true
    }

    /// Step 2: xLo ≤ s·Δ_j·2^E ≤ xHi (both ≤ 0).
    private func encloseScore(_ j: Int, _ head: PreparedHead) {
        var e = head.scoreExponent
        let delta: GMPInteger?
        var small = 0
        if head.dotsFitInt128 {
            let dv = dots128[j]
            if let s = Int(exactly: dv) { small = s; delta = nil } else { z.set(dv); delta = z }
        } else {
            delta = dotsBig[j]
        }
        if scale.isRational, let n = scale.numerator, let m = scale.denominator {
            if let k = scale.denominatorLog2 { e -= k }  // dividing by 2^k is exact
            if scale.numeratorIsOne, delta == nil {
                xLo.set(small, timesTwoTo: e, rounding: .down)
                xHi.set(small, timesTwoTo: e, rounding: .up)
            } else {
                if let delta { num.set(delta) } else { num.set(small) }
                if !scale.numeratorIsOne { num.mul(num, n) }
                xLo.set(num, timesTwoTo: e, rounding: .down)
                xHi.set(num, timesTwoTo: e, rounding: .up)
            }
            if scale.denominatorLog2 == nil {
                xLo.div(xLo, m, rounding: .down)
                xHi.div(xHi, m, rounding: .up)
            }
        } else {
            // a = Δ·2^E ≤ 0 and s ∈ [sLo, sHi]: s·a ∈ [sHi·aLo, sLo·aHi].
            if let delta {
                xLo.set(delta, timesTwoTo: e, rounding: .down)
                xHi.set(delta, timesTwoTo: e, rounding: .up)
            } else {
                xLo.set(small, timesTwoTo: e, rounding: .down)
                xHi.set(small, timesTwoTo: e, rounding: .up)
            }
            xLo.mul(xLo, scale.upper, rounding: .down)
            xHi.mul(xHi, scale.lower, rounding: .up)
        }
    }

    /// Step 3: W_j and δ_j with exp(x_j)·2^F ∈ [W_j, W_j + δ_j].
    func encloseWeight(_ j: Int) {
        let w = weights + j * weightLimbs
        if xHi.compare(-plan.cutoff) < 0 {  // Lemma 2: exp(x)·2^F < 1/4
            for k in 0..<weightLimbs { w[k] = 0 }
            spread[j] = 1
            return
        }
        if let tableExp, encloseWeightByTables(j, w, tableExp) { return }
        encloseWeightByMPFR(j, w)
    }

    /// By tables (Lemma 4): T = ⌈−xLo·2^A⌉, R ≤ exp(−T/2^A) < R + 3m·2^-A, and
    /// exp(x) ≤ exp(−T/2^A)·(1 + 2η) with η = 2^-A + (xHi − xLo); so W = ⌊R·2^F⌋
    /// and δ = 2 whenever (xHi − xLo)·2^(F+3) ≤ 1. Returns false to fall back to MPFR.
    private func encloseWeightByTables(_ j: Int, _ w: UnsafeMutablePointer<UInt>, _ te: TableExp) -> Bool {
        let f = plan.weightBits, a = 64 * te.limbs
        if xLo.compare(xHi) != 0 {
            t.sub(xHi, xLo, rounding: .up)
            t.mulPowerOfTwo(t, f + 3, rounding: .up)
            if t.compare(1) > 0 { return false }
        }
        t.mulPowerOfTwo(xLo, a, rounding: .down)  // exact
        t.integer(into: z, rounding: .down)  // ⌊xLo·2^A⌋ ≤ 0
        z.negate()  // T = ⌈−xLo·2^A⌉ ≥ 0
        // T = 0 forces xLo = 0, so x = 0 and w = 1 exactly.
        return storeWeight(te.evaluate(z), j, w, te)
    }

    /// By MPFR's exp (Lemma 3): yLo = exp(xLo)↓ and, from the same call, yHi ≥ exp(xHi).
    private func encloseWeightByMPFR(_ j: Int, _ w: UnsafeMutablePointer<UInt>) {
        let f = plan.weightBits
        let inexact = yLo.exp(xLo, rounding: .down) != 0
        yHi.set(yLo, rounding: .up)
        if inexact { yHi.nextUp() }  // exp(xLo) ≤ yHi
        if xLo.compare(xHi) != 0 {
            t.sub(xHi, xLo, rounding: .up)  // h ≥ xHi − xLo ≥ 0
            if t.compare(1) <= 0 {
                // exp(xHi) = exp(xLo)·exp(h) ≤ yHi·(1 + 2h) for 0 ≤ h ≤ 1.
                t.mulPowerOfTwo(t, 1, rounding: .up)
                t.add(t, 1, rounding: .up)
                yHi.mul(yHi, t, rounding: .up)
            } else {
                yHi.exp(xHi, rounding: .up)
            }
        }
        t.mulPowerOfTwo(yLo, f, rounding: .down)
        t.integer(into: num, rounding: .down)
        t.mulPowerOfTwo(yHi, f, rounding: .up)
        t.integer(into: z, rounding: .up)
        z.sub(z, num)
        // W ≤ 2^F fits; δ_j ≤ 2 (Lemma 3); anything else is a bug, not an input.
        guard num.copyMagnitudeLimbs(into: w, count: weightLimbs), let sp = z.intValue, sp <= 2 else {
            preconditionFailure("certified weight out of range")
        }
        spread[j] = sp
    }

    /// Makes room for `dv` column accumulators.
    private func reserveColumns(_ dv: Int) {
        guard dv > columns else { return }
        positive.deallocate(); negative.deallocate(); plus.deallocate(); minus.deallocate()
        positive = .allocate(capacity: dv * (weightLimbs + 2))
        negative = .allocate(capacity: dv * (weightLimbs + 2))
        plus = .allocate(capacity: dv)
        minus = .allocate(capacity: dv)
        columns = dv
    }

    /// Steps 4–5 for every output column; returns the widest enclosure (rounded up).
    private func combine(
        _ head: PreparedHead, _ n: Int, spreadSum: Int, lo: inout [Double],
        hi: inout [Double]
    ) -> Double {
        let v = head.v, dv = v.cols, wl = weightLimbs, al = wl + 2
        reserveColumns(dv)
        let (positive, negative, plus, minus, weights, spread) = (
            self.positive, self.negative, self.plus, self.minus,
            self.weights, self.spread
        )
        for k in 0..<(dv * al) { positive[k] = 0; negative[k] = 0 }
        for c in 0..<dv { plus[c] = 0; minus[c] = 0 }
        if let vs = v.small {
            // Exact: Σ_j W_j·V⁺_jc and Σ_j W_j·V⁻_jc in (wl + 2)-limb accumulators (|V| < 2⁶², n < 2⁶³).
            vs.withUnsafeBufferPointer { vb in
                for j in 0..<n {
                    let wj = weights + j * wl, sp = Int128(spread[j]), row = vb.baseAddress! + keyIndex[j] * dv
                    for c in 0..<dv {
                        let x = row[c]
                        if x > 0 {
                            let acc = positive + c * al
                            addCarry(__gmpn_addmul_1(acc, wj, wl, UInt(x)), to: acc + wl)
                            plus[c] += sp * Int128(x)
                        } else if x < 0 {
                            let acc = negative + c * al
                            addCarry(__gmpn_addmul_1(acc, wj, wl, UInt(x.magnitude)), to: acc + wl)
                            minus[c] += sp * Int128(x.magnitude)
                        }
                    }
                }
            }
        }
        lHi.set(sumW)
        lHi.add(spreadSum)
        var widest = 0.0
        for c in 0..<dv {
            if v.small != nil {
                num.setLimbs(positive + c * al, count: al)
                z.setLimbs(negative + c * al, count: al)
                num.sub(num, z)
                nLo.set(-minus[c])
                nHi.set(plus[c])
            } else {
                num.set(0)
                nLo.set(0)
                nHi.set(0)
                for j in 0..<n {
                    let x = v.big[keyIndex[j] * dv + c]
                    z2.setLimbs(weights + j * wl, count: wl)
                    num.addProduct(z2, x)
                    if x.sign >= 0 { nHi.addProduct(x, spread[j]) } else { nLo.addProduct(x, spread[j]) }
                }
            }
            nLo.add(nLo, num)
            nHi.add(nHi, num)
            // Outward division by L ∈ [sumW, lHi], both > 0.
            outLo.set(nLo, timesTwoTo: v.exponent, rounding: .down)
            outLo.div(outLo, nLo.sign >= 0 ? lHi : sumW, rounding: .down)
            outHi.set(nHi, timesTwoTo: v.exponent, rounding: .up)
            outHi.div(outHi, nHi.sign >= 0 ? sumW : lHi, rounding: .up)
            lo[c] = outLo.double(rounding: .down)
            hi[c] = outHi.double(rounding: .up)
            width.sub(outHi, outLo, rounding: .up)
            widest = max(widest, width.double(rounding: .up))
        }
        return widest
    }
}
