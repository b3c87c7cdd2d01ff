import AttnCertified
import AttnCore
import PropertyBased
import Testing

/// Both engines under the whole score model (Proofs/certified-score-model.md, certified-lse.md),
/// against an independent recomputation in `CertifiedInterval` that reads the definitions directly:
/// its own visibility rule, tanh as 1 − 2/(e^{2y} + 1), the sink as one more denominator term.
@Suite("Score model: both engines enclose the truth of every term and the LSE")
struct ScoreModelEnclosureTests {
    struct Problem {
        let q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>
        let shape: AttentionShape
        var model = ScoreModel.plain
        var causal = false, topLeft = false
        var window: (Int?, Int?)? = nil
        var mask: ScoreGrid<Bool>? = nil
        var judged: JudgedScores { try! JudgedScores(model, shape: shape) }
    }

    /// A random problem with a random score model: alignment, causal, window, a broadcast mask,
    /// and (when `terms`) bias, ALiBi, softcap, sinks, each present or not.
    static func problem(seed: UInt64, terms: Bool) -> Problem {
        var g = Xoshiro256StarStar(seed: seed)
        let batch = 1 + Int(g.next() % 2), headsQ = 2, group = 1 + Int(g.next() % 2)
        let nq = 1 + Int(g.next() % 7), nk = 1 + Int(g.next() % 9), d = 1 + Int(g.next() % 3), dv = 2
        func t(_ h: Int, _ r: Int, _ c: Int, _ scale: Double) -> Tensor<Double> {
            let s = (0..<batch * h * r * c).map { _ in Double(Float(g.uniform(-1, 1) * scale)) }
            return Tensor(
                heads: batch * h, rows: r, cols: c, storage: s, logicalRank: 4, batch: batch, headsPerBatch: h)
        }
        let q = t(headsQ, nq, d, 3), k = t(headsQ / group, nk, d, 3), v = t(headsQ / group, nk, dv, 1)
        let shape = try! AttentionShape(q: q, k: k, v: v)
        var p = Problem(q: q, k: k, v: v, shape: shape)
        p.topLeft = g.next() % 2 == 0
        p.causal = g.next() % 2 == 0
        if g.next() % 2 == 0 {
            p.window = (g.next() % 3 == 0 ? nil : Int(g.next() % 4), g.next() % 3 == 0 ? nil : Int(g.next() % 3))
        }
        var window: AttentionWindow? = p.causal ? .causal : nil
        if let w = p.window {  // the intersection of causal and the window is one window
            let right = p.causal ? min(w.1 ?? 0, 0) : w.1
            window = try! AttentionWindow(left: w.0, right: right)
        }
        if g.next() % 2 == 0 {  // an explicit mask broadcast over batch or heads
            let dims = g.next() % 2 == 0 ? [nq, nk] : [1, headsQ, nq, nk]
            let vals = (0..<dims.reduce(1, *)).map { _ in g.next() % 4 != 0 }
            p.mask = try! ScoreGrid(shape: dims, values: vals, parameter: .mask)
        }
        let mask = AttentionMask(alignment: p.topLeft ? .topLeft : .bottomRight, window: window, explicit: p.mask)
        var softcap: Double? = nil
        var bias: ScoreGrid<Double>? = nil, slopes: ScoreGrid<Double>? = nil, sinks: ScoreGrid<Double>? = nil
        if terms {
            if g.next() % 2 == 0 {
                let vals = (0..<headsQ * nq * nk).map { _ in Double(Float(g.uniform(-3, 3))) }
                bias = try! ScoreGrid(shape: [headsQ, nq, nk], values: vals, parameter: .bias)
            }
            if g.next() % 2 == 0 {
                slopes = try! .perHead((0..<headsQ).map { _ in Double(Float(g.uniform(0, 2))) }, parameter: .alibi)
            }
            if g.next() % 2 == 0 { softcap = Double(Float(g.uniform(0.5, 4))) }
            if g.next() % 2 == 0 {
                sinks = try! .perHead((0..<headsQ).map { _ in Double(Float(g.uniform(-2, 6))) }, parameter: .sinks)
            }
        }
        p.model = try! ScoreModel(mask: mask, softcap: softcap, bias: bias, alibiSlopes: slopes, sinks: sinks)
        return p
    }

    /// Key j visible to row i of flat head f, from the definitions (not `AttentionMask`).
    static func visible(_ p: Problem, f: Int, i: Int, j: Int) -> Bool {
        let diag = i + (p.topLeft ? 0 : p.shape.nk - p.shape.nq)
        if p.causal && j > diag { return false }
        if let w = p.window {
            if let l = w.0, j < diag - l { return false }
            if let r = w.1, j > diag + r { return false }
        }
        if let m = p.mask {  // [n_q, n_k] or [1, heads, n_q, n_k], row-major
            let head = m.shape.count == 4 ? f % p.shape.headsQ : 0
            if !m.values[(head * p.shape.nq + i) * p.shape.nk + j] { return false }
        }
        return true
    }

    /// The truth of row i of head f by interval arithmetic at 300 bits: (O_c for each c, LSE), or
    /// nil for a row with no visible key and no sink.
    static func truth(_ p: Problem, f: Int, i: Int) -> (out: [CertifiedInterval], lse: CertifiedInterval)? {
        let prec = 300
        let (d, dv, nk) = (p.shape.d, p.shape.dv, p.shape.nk)
        let g = p.shape.kvHead(forQueryHead: f)
        let s = CertifiedInterval(d, precision: prec).sqrt()!
        let one = CertifiedInterval(1, precision: prec), two = CertifiedInterval(2, precision: prec)
        var den = CertifiedInterval(0, precision: prec)
        var num = [CertifiedInterval](repeating: den, count: dv)
        var any = false
        for j in 0..<nk where visible(p, f: f, i: i, j: j) {
            any = true
            var dot = CertifiedInterval(0, precision: prec)
            for c in 0..<d {
                dot =
                    dot + CertifiedInterval(p.q[f, i, c], precision: prec)
                    * CertifiedInterval(p.k[g, j, c], precision: prec)
            }
            var t = dot / s
            if let cap = p.model.softcap {
                let c = CertifiedInterval(cap, precision: prec)
                t = c * (one - two / ((two * t / c).exp() + one))  // c·tanh(t/c)
            }
            t = t + CertifiedInterval(p.judged.bias(head: f, row: i, key: j), precision: prec)
            let dist = abs(i + (p.topLeft ? 0 : p.shape.nk - p.shape.nq) - j)
            t =
                t - CertifiedInterval(p.judged.slope(head: f), precision: prec)
                * CertifiedInterval(dist, precision: prec)
            let w = t.exp()
            den = den + w
            for c in 0..<dv { num[c] = num[c] + w * CertifiedInterval(p.v[g, j, c], precision: prec) }
        }
        if let sigma = p.judged.sink(head: f) {
            den = den + CertifiedInterval(sigma, precision: prec).exp()
        } else if !any {
            return nil
        }
        return (num.map { $0 / den }, den.log()!)
    }

    @Test("GMP/MPFR encloses the output and LSE of every term, alignment, window and mask; empty rows are exact")
    func exactEngineMatchesIntervalTruth() async {
        await propertyCheck(count: 40, input: Gen.int(in: 0...Int.max)) { seed in
            let p = Self.problem(seed: UInt64(seed), terms: true)
            let rows = (0..<p.shape.flatHeads).flatMap { f in (0..<p.shape.nq).map { (f, $0) } }
            let got = try! CertifiedAttention.encloseRows(
                q: p.q, k: p.k, v: p.v, scale: .standard, scoreModel: p.model, precision: 128, rows: rows)
            for (n, (f, i)) in rows.enumerated() {
                let r = got[n]
                guard let want = Self.truth(p, f: f, i: i) else {
                    #expect(r.masked && r.lo.allSatisfy { $0 == 0 } && r.hi.allSatisfy { $0 == 0 }, "seed \(seed)")
                    #expect(r.lse.lo == -.infinity && r.lse.hi == -.infinity)
                    continue
                }
                for c in 0..<p.shape.dv {
                    #expect(
                        r.lo[c] <= want.out[c].upper && want.out[c].lower <= r.hi[c],
                        "seed \(seed) head \(f) row \(i) col \(c): [\(r.lo[c]), \(r.hi[c])] vs \(want.out[c])")
                    // The 128-bit enclosure, rounded out to doubles: at most two ulps wide.
                    #expect(r.hi[c] - r.lo[c] <= 2 * r.hi[c].magnitude.ulp + 0x1p-1074)
                }
                #expect(
                    r.lse.lo <= want.lse.upper && want.lse.lower <= r.lse.hi,
                    "seed \(seed) head \(f) row \(i): LSE [\(r.lse.lo), \(r.lse.hi)] vs \(want.lse)")
                #expect(r.lse.hi - r.lse.lo <= 2 * r.lse.hi.magnitude.ulp + 0x1p-1074)
            }
        }
    }

    @Test("the float engine's output and LSE enclosures contain GMP's under alignment, windows and masks")
    func floatEngineContainsExactUnderMasks() async {
        await propertyCheck(count: 40, input: Gen.int(in: 0...Int.max)) { seed in
            Self.expectFloatEngineContainsExact(
                Self.problem(seed: UInt64(seed), terms: false), width: 1e-12, label: "seed \(seed)")
        }
    }

    /// The one containment check of the float engine against GMP, every row of every head: the same masked
    /// rows (output 0, the exact LSE: −∞, or σ with a sink), every other row decided with radius ≤ width·max(1, |ô|)
    /// and its interval containing GMP's, the LSE enclosure containing GMP's and at most that wide.
    static func expectFloatEngineContainsExact(_ p: Problem, width: Double, label: String) {
        let rows = (0..<p.shape.flatHeads).flatMap { f in (0..<p.shape.nq).map { (f, $0) } }
        let exact = try! CertifiedAttention.encloseRows(
            q: p.q, k: p.k, v: p.v, scale: .standard, scoreModel: p.model, precision: 128, rows: rows)
        let engine = try! FloatAttentionEngine(q: p.q, k: p.k, v: p.v, scale: .standard, scoreModel: p.model)
        let ws = engine.makeWorkspace()
        let (nq, dv) = (p.shape.nq, p.shape.dv)
        var mid = [Double](repeating: 0, count: nq * dv), rad = mid
        for f in 0..<p.shape.flatHeads {
            engine.enclose(head: f, rows: 0, count: nq, workspace: ws, mid: &mid, radius: &rad)
            for i in 0..<nq {
                let x = exact[f * nq + i], row = "\(label) head \(f) row \(i)"
                #expect(ws.masked[i] == x.masked, "\(row)")
                if x.masked {
                    #expect(ws.lseLo[i] == x.lse.lo && ws.lseHi[i] == x.lse.hi, "\(row)")
                    #expect((0..<dv).allSatisfy { mid[i * dv + $0] == 0 && rad[i * dv + $0] == 0 })
                    continue
                }
                for c in 0..<dv {
                    let (o, e) = (mid[i * dv + c], rad[i * dv + c])
                    #expect(e.isFinite && e <= width * max(1, abs(o)), "\(row): undecided or loose, e = \(e)")
                    #expect(
                        o - e <= x.lo[c] && x.hi[c] <= o + e,
                        "\(row) col \(c): ô \(o) e \(e) GMP [\(x.lo[c]), \(x.hi[c])]")
                }
                #expect(ws.lseLo[i] <= x.lse.lo && x.lse.hi <= ws.lseHi[i], "\(row): LSE")
                #expect(ws.lseHi[i] - ws.lseLo[i] <= width * max(1, abs(x.lse.lo)), "\(row): LSE width")
            }
        }
    }

    /// Top-left causal with n_q < n_k, and bottom-right with n_q > n_k: rows with no visible key are
    /// 0 exactly in both engines (PyTorch's `_safe_softmax`), and verify counts them.
    @Test func fullyMaskedRowsAreExactZeroAndCounted() throws {
        let q = Tensor<Double>(rows: 4, cols: 1, storage: [1, 2, 3, 4])
        let k = Tensor<Double>(rows: 2, cols: 1, storage: [1, -1])
        let v = Tensor<Double>(rows: 2, cols: 1, storage: [5, 7])
        let model = ScoreModel.causal()  // bottom-right: rows 0, 1 see nothing
        var cand = Tensor<Double>(rows: 4, cols: 1, storage: [0, 0, 5, 0])
        let exact = try CertifiedAttention.encloseRows(
            q: q, k: k, v: v, scale: .paper, scoreModel: model, precision: 64, rows: (0..<4).map { (0, $0) })
        cand[0, 3, 0] = exact[3].lo[0]
        var options = VerifyOptions(atol: 1e-9)
        for engine in VerifyEngine.allCases {
            options.engine = engine
            let r = try TieredVerification.run(
                q: q, k: k, v: v, candidate: cand, scale: .paper, scoreModel: model, options: options)
            #expect(r.passed && r.maskedRows == 2, "\(engine)")
        }
        let r = try TieredVerification.run(  // top-left: every row sees key 0
            q: q, k: k, v: v, candidate: cand, scale: .paper, scoreModel: .causal(.topLeft), options: options)
        #expect(r.maskedRows == 0 && !r.passed)
    }
}
