import AttnCore

/// What every row of one head shares: Q, K, V as exact integer matrices.
/// Immutable once built, read by every worker.
final class PreparedHead: @unchecked Sendable {
    let q: IntegerMatrix
    let k: IntegerMatrix
    let v: IntegerMatrix
    /// ⟨q_i, k_j⟩ = D_ij · 2^scoreExponent with D_ij an integer.
    let scoreExponent: Int
    /// Whether every D_ij (and every D_ij − max_j D_ij) fits in Int128.
    let dotsFitInt128: Bool

    init(q: IntegerMatrix, k: IntegerMatrix, v: IntegerMatrix) {
        self.q = q
        self.k = k
        self.v = v
        scoreExponent = q.exponent + k.exponent
        // |D| ≤ d·2^(bq+bk), and a difference of two such needs one bit more.
        let dBits = Int.bitWidth - (q.cols).leadingZeroBitCount
        dotsFitInt128 = q.small != nil && k.small != nil && q.maxBits + k.maxBits + dBits + 1 <= 126
    }
}

/// Fixed parameters of one certified computation.
struct EnclosurePlan: Sendable {
    /// Output precision p (bits).
    let precision: Int
    /// Weights are carried as integers W with w = W·2^-weightBits.
    var weightBits: Int { precision + 8 }
    /// Precision of the score and exp enclosures.
    var workingPrecision: Int { precision + 32 }
    /// exp(x) < 2^-(weightBits+2) once x < −(weightBits + 2) (as e > 2): such weights are [0, 1 unit].
    var cutoff: Int { weightBits + 2 }
}

/// One worker's scratch registers and the per-row algorithm (Proofs/certified-enclosure.md):
///
/// 1. D_ij = Σ_c Q_ic K_jc exactly (Int128 or GMP); Δ_j = D_ij − max_j D_ij ≤ 0, exact.
/// 2. x_j = s·Δ_j·2^E ≤ 0 enclosed in [xLo, xHi] (exact rational rounded once per
///    direction when s is rational; by s's enclosure otherwise).
/// 3. w_j = exp(x_j) ∈ [yLo, yHi], yLo = exp(xLo)↓, yHi from the same exp call
///    (next float up if inexact, times 1 + 2(xHi − xLo)↑); x_j < −cutoff gives [0, 2^-F].
/// 4. W_j = ⌊yLo·2^F⌋ and δ_j = ⌈yHi·2^F⌉ − W_j: w_j·2^F ∈ [W_j, W_j + δ_j].
/// 5. N_c = Σ_j W_j V_jc exactly; numerator ∈ [N_c − Σ δ_j V⁻_jc, N_c + Σ δ_j V⁺_jc],
///    denominator ∈ [L, L + Σ δ_j] with L = Σ W_j ≥ 2^F (the max key has w = 1 exactly).
/// 6. Output = numerator/denominator by outward interval division, times 2^(exponent of V).
final class RowWorker {
    let plan: EnclosurePlan
    let scale: ScaleEnclosure
    private var dots128: [Int128]
    private var dotsBig: [GMPInteger]
    private var weights: [GMPInteger]
    private var spread: [Int]
    private let z = GMPInteger(), z2 = GMPInteger(), num = GMPInteger(), sumW = GMPInteger()
    private let lHi = GMPInteger(), nLo = GMPInteger(), nHi = GMPInteger()
    private let xLo: MPFRFloat, xHi: MPFRFloat, yLo: MPFRFloat, yHi: MPFRFloat, t: MPFRFloat
    private let outLo: MPFRFloat, outHi: MPFRFloat, width: MPFRFloat

    init(plan: EnclosurePlan, scale: ScaleEnclosure, keys: Int) {
        self.plan = plan
        self.scale = scale
        dots128 = [Int128](repeating: 0, count: keys)
        dotsBig = []
        weights = (0..<keys).map { _ in GMPInteger() }
        spread = [Int](repeating: 0, count: keys)
        let wp = plan.workingPrecision
        (xLo, xHi, yLo, yHi, t) = (MPFRFloat(precision: wp), MPFRFloat(precision: wp), MPFRFloat(precision: wp),
                                   MPFRFloat(precision: wp), MPFRFloat(precision: wp))
        (outLo, outHi) = (MPFRFloat(precision: plan.precision), MPFRFloat(precision: plan.precision))
        width = MPFRFloat(precision: plan.precision + 2)
    }

    /// Encloses output row i of `head` (keys 0...lastKey visible).
    ///
    /// Postcondition: for each column c, lo[c] ≤ O_ic ≤ hi[c] (Doubles rounded
    /// outward from the p-bit enclosure); returns an upper bound on the widest
    /// p-bit enclosure hi − lo in the row.
    func row(_ i: Int, of head: PreparedHead, lastKey: Int, lo: inout [Double], hi: inout [Double]) -> Double {
        let keys = lastKey + 1
        computeScoreDifferences(i, head, keys)
        sumW.set(0)
        var spreadSum = 0
        for j in 0..<keys {
            encloseScore(j, head)
            encloseWeight(j)
            sumW.add(sumW, weights[j])
            spreadSum += spread[j]
        }
        return combine(head, keys, spreadSum: spreadSum, lo: &lo, hi: &hi)
    }

    /// Step 1: Δ_j = D_ij − max D_ij, exactly.
    private func computeScoreDifferences(_ i: Int, _ head: PreparedHead, _ keys: Int) {
        let d = head.q.cols
        if head.dotsFitInt128, let qs = head.q.small, let ks = head.k.small {
            var best = Int128.min
            qs.withUnsafeBufferPointer { qb in
                ks.withUnsafeBufferPointer { kb in
                    let qi = qb.baseAddress! + i * d
                    for j in 0..<keys {
                        let kj = kb.baseAddress! + j * d
                        var acc: Int128 = 0
                        for c in 0..<d { acc &+= Int128(qi[c]) &* Int128(kj[c]) }  // no overflow: dotsFitInt128
                        dots128[j] = acc
                        best = max(best, acc)
                    }
                }
            }
            for j in 0..<keys { dots128[j] &-= best }
        } else {
            while dotsBig.count < keys { dotsBig.append(GMPInteger()) }
            var best = 0
            for j in 0..<keys {
                let acc = dotsBig[j]
                acc.set(0)
                for c in 0..<d {
                    head.q.entry(i, c, into: z)
                    head.k.entry(j, c, into: z2)
                    acc.addProduct(z, z2)
                }
                if j == 0 || acc.compare(dotsBig[best]) > 0 { best = j }
            }
            z2.set(dotsBig[best])
            for j in 0..<keys { dotsBig[j].sub(dotsBig[j], z2) }
        }
    }

    /// Step 2: xLo ≤ s·Δ_j·2^E ≤ xHi (both ≤ 0).
    private func encloseScore(_ j: Int, _ head: PreparedHead) {
        let e = head.scoreExponent
        let delta: GMPInteger?
        var small = 0
        if head.dotsFitInt128 {
            let dv = dots128[j]
            if let s = Int(exactly: dv) { small = s; delta = nil } else { z.set(dv); delta = z }
        } else {
            delta = dotsBig[j]
        }
        if scale.isRational, let n = scale.numerator, let m = scale.denominator {
            if scale.numeratorIsOne, delta == nil {
                xLo.set(small, timesTwoTo: e, rounding: .down)
                xHi.set(small, timesTwoTo: e, rounding: .up)
            } else {
                if let delta { num.set(delta) } else { num.set(small) }
                if !scale.numeratorIsOne { num.mul(num, n) }
                xLo.set(num, timesTwoTo: e, rounding: .down)
                xHi.set(num, timesTwoTo: e, rounding: .up)
            }
            if !scale.denominatorIsOne {
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

    /// Steps 3–4: W_j and δ_j with exp(x_j)·2^F ∈ [W_j, W_j + δ_j].
    private func encloseWeight(_ j: Int) {
        let f = plan.weightBits
        if xHi.compare(-plan.cutoff) < 0 {
            weights[j].set(0)
            spread[j] = 1
            return
        }
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
        t.integer(into: weights[j], rounding: .down)
        t.mulPowerOfTwo(yHi, f, rounding: .up)
        t.integer(into: z, rounding: .up)
        z.sub(z, weights[j])
        // δ_j ≤ 2 (Proofs/certified-enclosure.md, Lemma 3); anything else is a bug, not an input.
        guard let sp = z.intValue, sp <= 1 << 30 else { preconditionFailure("certified weight spread out of range") }
        spread[j] = sp
    }

    /// Steps 5–6 for every output column; returns the widest enclosure (rounded up).
    private func combine(_ head: PreparedHead, _ keys: Int, spreadSum: Int, lo: inout [Double],
                         hi: inout [Double]) -> Double {
        let v = head.v, dv = v.cols
        lHi.set(sumW)
        lHi.add(spreadSum)
        var widest = 0.0
        for c in 0..<dv {
            num.set(0)
            var plus: Int128 = 0, minus: Int128 = 0
            if let vs = v.small {
                for j in 0..<keys {
                    let x = Int(vs[j * dv + c])
                    num.addProduct(weights[j], x)
                    let sp = Int128(spread[j])
                    if x >= 0 { plus += sp * Int128(x) } else { minus += sp * Int128(-x) }
                }
                nLo.set(-minus)
                nHi.set(plus)
            } else {
                nLo.set(0)
                nHi.set(0)
                for j in 0..<keys {
                    let x = v.big[j * dv + c]
                    num.addProduct(weights[j], x)
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
