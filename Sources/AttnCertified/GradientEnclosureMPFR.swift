import AttnCore
import CMPFR
import Foundation

/// The GMP/MPFR engine of the backward pass, for the rows the float engine leaves undecided:
/// the same algorithm as `FloatGradientEngine` (one row of scores at a time, every sum left to
/// right) in MPFR at p bits, round to nearest, with the radius of `GradientErrorModel` for
/// u = 2⁻ᵖ (MPFR's exp is correctly rounded, and its exponent range has no underflow here).
/// At p = 256 the radius is below 10⁻⁶⁰ of the gradients' scale, so the enclosure's width is one
/// ulp of its Double rounding: the exact gradient to the last bit.
///
/// Cost: O(n_k·(d + d_v)) MPFR operations per dQ row; a dK or dV row needs every row of the query
/// heads that share its KV head (O(group·n_q·n_k·(d + d_v)) once per KV head).
package enum MPFRGradientEngine {
    /// A request: flat query head (dQ) or flat KV head (dK, dV), and the row.
    package struct Row: Hashable, Sendable {
        package let head: Int, row: Int
        package init(head: Int, row: Int) { (self.head, self.row) = (head, row) }
    }

    /// Encloses the requested rows: for each gradient, one (lo, hi) pair of Double rows per request, in order.
    /// - Precondition: shapes checked, inputs finite.
    package static func enclose(
        q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, dO: Tensor<Double>, shape: AttentionShape,
        scale: Scale, mask: GradientMask, precision p: Int, rows: [GradientName: [Row]]
    ) throws -> [GradientName: [(lo: [Double], hi: [Double])]] {
        let (nq, nk, d, dv) = (shape.nq, shape.nk, shape.d, shape.dv)
        typealias D = Directed
        let enclosure = try ScaleEnclosure(scale, d: d, precision: p)
        let sHi = enclosure.upper.double(rounding: .up)
        let width = MPFRFloat(precision: 64)
        width.sub(enclosure.upper, enclosure.lower, rounding: .up)
        let cs = D.div(width.double(rounding: .up), enclosure.lower.double(rounding: .down))
        let u = Foundation.pow(2.0, Double(-p))
        let model = GradientErrorModel(
            u: u, eta: 2 * u, tauW: 0, tau: 0, cs: cs, c0: 0, d: d, dv: dv, nk: nk, bigN: shape.group * nq)
        let sPlus = D.mul(D.mul(sHi, D.add(1, u)), D.add(1, cs))
        func mp() -> MPFRFloat { MPFRFloat(precision: p) }
        let sLo = enclosure.lower
        // Work per KV head: which flat query heads and rows need a pass, which dK/dV rows accumulate.
        var out: [GradientName: [(lo: [Double], hi: [Double])]] = [:]
        var dqAt: [Row: Int] = [:], dkAt: [Row: Int] = [:], dvAt: [Row: Int] = [:]
        for (x, r) in (rows[.dq] ?? []).enumerated() { dqAt[r] = x }
        for (x, r) in (rows[.dk] ?? []).enumerated() { dkAt[r] = x }
        for (x, r) in (rows[.dv] ?? []).enumerated() { dvAt[r] = x }
        var dqOut = [(lo: [Double], hi: [Double])](repeating: ([], []), count: rows[.dq]?.count ?? 0)
        var dkOut = [(lo: [Double], hi: [Double])](repeating: ([], []), count: rows[.dk]?.count ?? 0)
        var dvOut = [(lo: [Double], hi: [Double])](repeating: ([], []), count: rows[.dv]?.count ?? 0)
        let kvHeads = shape.batch * shape.headsKV
        let score = (0..<nk).map { _ in mp() }, dp = (0..<nk).map { _ in mp() }
        let acc = mp(), m = mp(), l = mp(), e = mp(), rInv = mp(), dRow = mp(), tmp = mp()
        for h in 0..<kvHeads {
            let keyRowsK = (0..<nk).filter { dkAt[Row(head: h, row: $0)] != nil }
            let keyRowsV = (0..<nk).filter { dvAt[Row(head: h, row: $0)] != nil }
            let queryHeads = h * shape.group..<(h + 1) * shape.group
            let dqRows = queryHeads.flatMap { f in
                (0..<nq).filter { dqAt[Row(head: f, row: $0)] != nil }.map { (f, $0) }
            }
            let allRows = !keyRowsK.isEmpty || !keyRowsV.isEmpty
            if !allRows && dqRows.isEmpty { continue }
            let kb = k.storage, vb = v.storage, qb = q.storage, gb = dO.storage
            var kNorm = 0.0, kInf = 0.0, vNorm = 0.0, vInf = 0.0
            var kCol = [Double](repeating: 0, count: d)
            kb.withUnsafeBufferPointer { kp in
                vb.withUnsafeBufferPointer { vp in
                    for j in 0..<nk {
                        let kr = kp.baseAddress! + (h * nk + j) * d, vr = vp.baseAddress! + (h * nk + j) * dv
                        kNorm = max(kNorm, D.norm2(kr, count: d)); vNorm = max(vNorm, D.norm2(vr, count: dv))
                        for c in 0..<d { kInf = max(kInf, abs(kr[c])); kCol[c] = D.add(kCol[c], abs(kr[c])) }
                        for c in 0..<dv { vInf = max(vInf, abs(vr[c])) }
                    }
                }
            }
            let kOne = kCol.max() ?? 0
            let accK = keyRowsK.map { _ in (0..<d).map { _ in mpZero(p) } }
            let accV = keyRowsV.map { _ in (0..<dv).map { _ in mpZero(p) } }
            var wK = [Double](repeating: 0, count: d), wV = [Double](repeating: 0, count: dv)
            let passes = allRows ? queryHeads.flatMap { f in (0..<nq).map { (f, $0) } } : dqRows
            for (f, i) in passes {
                let keys = mask.window(i).filter { mask.visible(head: f, row: i, key: $0) }, seen = keys.count
                let qi = (f * nq + i) * d, gi = (f * nq + i) * dv
                if seen == 0 {
                    if let x = dqAt[Row(head: f, row: i)] {
                        dqOut[x] = ([Double](repeating: 0, count: d), [Double](repeating: 0, count: d))
                    }
                    continue
                }
                // Scores t = ŝ·(q_i·k_j) and dP_j over the visible keys (slot x holds key keys[x]), m = max t.
                mpfr_set_si(m.raw, 0, MPFR_RNDN)
                for (x, j) in keys.enumerated() {
                    mpfr_set_si(acc.raw, 0, MPFR_RNDN)
                    for c in 0..<d {
                        mpfr_set_d(tmp.raw, qb[qi + c], MPFR_RNDN)
                        mpfr_mul_d(tmp.raw, tmp.raw, kb[(h * nk + j) * d + c], MPFR_RNDN)
                        mpfr_add(acc.raw, acc.raw, tmp.raw, MPFR_RNDN)
                    }
                    mpfr_mul(score[x].raw, acc.raw, sLo.raw, MPFR_RNDN)
                    if x == 0 || mpfr_cmp(score[x].raw, m.raw) > 0 { mpfr_set(m.raw, score[x].raw, MPFR_RNDN) }
                    mpfr_set_si(dp[x].raw, 0, MPFR_RNDN)
                    for c in 0..<dv {
                        mpfr_set_d(tmp.raw, gb[gi + c], MPFR_RNDN)
                        mpfr_mul_d(tmp.raw, tmp.raw, vb[(h * nk + j) * dv + c], MPFR_RNDN)
                        mpfr_add(dp[x].raw, dp[x].raw, tmp.raw, MPFR_RNDN)
                    }
                }
                mpfr_set_si(l.raw, 0, MPFR_RNDN); mpfr_set_si(e.raw, 0, MPFR_RNDN)
                for j in 0..<seen {
                    mpfr_sub(score[j].raw, score[j].raw, m.raw, MPFR_RNDN)
                    mpfr_exp(score[j].raw, score[j].raw, MPFR_RNDN)
                    mpfr_add(l.raw, l.raw, score[j].raw, MPFR_RNDN)
                    mpfr_mul(tmp.raw, score[j].raw, dp[j].raw, MPFR_RNDN)
                    mpfr_add(e.raw, e.raw, tmp.raw, MPFR_RNDN)
                }
                mpfr_ui_div(rInv.raw, 1, l.raw, MPFR_RNDN)
                mpfr_mul(dRow.raw, e.raw, rInv.raw, MPFR_RNDN)
                for j in 0..<seen {  // score ← P_j, dp ← dS_j
                    mpfr_mul(score[j].raw, score[j].raw, rInv.raw, MPFR_RNDN)
                    mpfr_sub(tmp.raw, dp[j].raw, dRow.raw, MPFR_RNDN)
                    mpfr_mul(dp[j].raw, score[j].raw, tmp.raw, MPFR_RNDN)
                }
                var qn = 0.0, o1 = 0.0, on = 0.0
                qb.withUnsafeBufferPointer { qn = D.norm2($0.baseAddress! + qi, count: d) }
                gb.withUnsafeBufferPointer { on = D.norm2($0.baseAddress! + gi, count: dv) }
                for c in 0..<dv { o1 = D.add(o1, abs(gb[gi + c])) }
                let terms = model.row(
                    M: D.mul(D.mul(sHi, qn), kNorm), n: seen, A: min(D.mul(on, vNorm), D.mul(o1, vInf)))
                if let x = dqAt[Row(head: f, row: i)] {
                    let r = terms.map { model.dqRadius($0, sPlus: sPlus, kInf: kInf, kOne: kOne) } ?? .infinity
                    var lo = [Double](repeating: 0, count: d), hi = lo
                    for c in 0..<d {
                        mpfr_set_si(acc.raw, 0, MPFR_RNDN)
                        for (x, j) in keys.enumerated() {
                            mpfr_mul_d(tmp.raw, dp[x].raw, kb[(h * nk + j) * d + c], MPFR_RNDN)
                            mpfr_add(acc.raw, acc.raw, tmp.raw, MPFR_RNDN)
                        }
                        mpfr_mul(acc.raw, acc.raw, sLo.raw, MPFR_RNDN)
                        (lo[c], hi[c]) = widen(acc, r, tmp)
                    }
                    dqOut[x] = (lo, hi)
                }
                if allRows {
                    if let t = terms {
                        let (a, b) = (model.dkWeight(t), model.dvWeight(t))
                        for c in 0..<d { wK[c] = D.add(wK[c], D.mul(a, abs(qb[qi + c]))) }
                        for c in 0..<dv { wV[c] = D.add(wV[c], D.mul(b, abs(gb[gi + c]))) }
                    } else {
                        wK = wK.map { _ in .infinity }; wV = wV.map { _ in .infinity }
                    }
                    var slot = [Int: Int]()
                    for (x, j) in keys.enumerated() { slot[j] = x }
                    for (x, j) in keyRowsK.enumerated() {
                        guard let y = slot[j] else { continue }
                        for c in 0..<d {
                            mpfr_mul_d(tmp.raw, dp[y].raw, qb[qi + c], MPFR_RNDN)
                            mpfr_add(accK[x][c].raw, accK[x][c].raw, tmp.raw, MPFR_RNDN)
                        }
                    }
                    for (x, j) in keyRowsV.enumerated() {
                        guard let y = slot[j] else { continue }
                        for c in 0..<dv {
                            mpfr_mul_d(tmp.raw, score[y].raw, gb[gi + c], MPFR_RNDN)
                            mpfr_add(accV[x][c].raw, accV[x][c].raw, tmp.raw, MPFR_RNDN)
                        }
                    }
                }
            }
            for (x, j) in keyRowsK.enumerated() {
                var lo = [Double](repeating: 0, count: d), hi = lo
                for c in 0..<d {
                    mpfr_mul(accK[x][c].raw, accK[x][c].raw, sLo.raw, MPFR_RNDN)
                    (lo[c], hi[c]) = widen(accK[x][c], D.add(D.mul(sPlus, wK[c]), model.dkFloor), tmp)
                }
                dkOut[dkAt[Row(head: h, row: j)]!] = (lo, hi)
            }
            for (x, j) in keyRowsV.enumerated() {
                var lo = [Double](repeating: 0, count: dv), hi = lo
                for c in 0..<dv { (lo[c], hi[c]) = widen(accV[x][c], D.add(wV[c], model.dvFloor), tmp) }
                dvOut[dvAt[Row(head: h, row: j)]!] = (lo, hi)
            }
        }
        if rows[.dq] != nil { out[.dq] = dqOut }
        if rows[.dk] != nil { out[.dk] = dkOut }
        if rows[.dv] != nil { out[.dv] = dvOut }
        return out
    }

    static func mpZero(_ p: Int) -> MPFRFloat {
        let x = MPFRFloat(precision: p)
        mpfr_set_si(x.raw, 0, MPFR_RNDN)
        return x
    }

    /// [mid − r, mid + r] rounded outward to Doubles (±∞ when r is not finite).
    static func widen(_ mid: MPFRFloat, _ r: Double, _ tmp: MPFRFloat) -> (Double, Double) {
        guard r.isFinite, mid.isFinite else { return (-.infinity, .infinity) }
        mpfr_sub_d(tmp.raw, mid.raw, r, MPFR_RNDD)
        let lo = mpfr_get_d(tmp.raw, MPFR_RNDD)
        mpfr_add_d(tmp.raw, mid.raw, r, MPFR_RNDU)
        return (lo, mpfr_get_d(tmp.raw, MPFR_RNDU))
    }
}
