import AttnCertified
import AttnCore
import PropertyBased
import Testing

/// The float engine under score terms (Proofs/float-certified-engine.md §7) against GMP/MPFR: its output
/// and LSE enclosures contain GMP's in every regime that stresses a term, and `verify`'s bound from the
/// float engine is within 1% of GMP's.
@Suite("Float engine: softcap, bias, ALiBi and sinks enclose the truth")
struct FloatEnclosureTermsTests {
    typealias Problem = ScoreModelEnclosureTests.Problem

    enum Regime: Int, CaseIterable {
        /// ScoreModelEnclosureTests' random models: alignments, windows, masks, every term or not.
        case random
        /// Scores ≈ ±10⁶ under a softcap of 30: every score saturates.
        case hugeScoresUnderSoftcap
        /// ALiBi slopes of 10³: every key but the diagonal's falls in the tail.
        case steepAlibi
        /// A sink of 60 ≫ every score: the sink fills the denominator.
        case dominatingSink
        /// Every key equal up to a float32 ulp, with a bias and a softcap: near-ties.
        case nearTie
        /// Subnormal V and bias, tiny softcap.
        case subnormal
    }

    static func problem(_ regime: Regime, seed: UInt64) -> Problem {
        var p = ScoreModelEnclosureTests.problem(seed: seed, terms: true)
        guard regime != .random else { return p }
        var g = Xoshiro256StarStar(seed: seed ^ 0x9e37_79b9)
        let (batch, hq, nq, nk, d, dv) = (p.shape.batch, p.shape.headsQ, p.shape.nq, p.shape.nk, p.shape.d, p.shape.dv)
        let hkv = p.shape.headsKV
        func t(_ h: Int, _ r: Int, _ c: Int, _ f: (inout Xoshiro256StarStar) -> Double) -> Tensor<Double> {
            Tensor(
                heads: batch * h, rows: r, cols: c, storage: (0..<batch * h * r * c).map { _ in f(&g) },
                logicalRank: 4, batch: batch, headsPerBatch: h)
        }
        let f32 = { (x: Double) in Double(Float(x)) }
        var q = p.q, k = p.k, v = p.v
        var softcap: Double? = nil, bias: ScoreGrid<Double>? = nil, slopes: ScoreGrid<Double>? = nil,
            sinks: ScoreGrid<Double>? = nil
        switch regime {
        case .hugeScoresUnderSoftcap:
            q = t(hq, nq, d) { f32($0.uniform(-1, 1) * 1000) }
            k = t(hkv, nk, d) { f32($0.uniform(-1, 1) * 1000) }
            softcap = 30
        case .steepAlibi:
            slopes = try! .perHead((0..<hq).map { _ in f32(g.uniform(500, 2000)) }, parameter: .alibi)
        case .dominatingSink:
            sinks = try! .perHead((0..<hq).map { _ in f32(g.uniform(55, 65)) }, parameter: .sinks)
            softcap = 5
        case .nearTie:
            k = t(hkv, nk, d) { f32(0.5 + $0.uniform(0, 1) * 0x1p-22) }
            bias = try! ScoreGrid(
                shape: [nk], values: (0..<nk).map { _ in f32(g.uniform(0, 1) * 0x1p-20) }, parameter: .bias)
            softcap = 2
        case .subnormal:
            v = t(hkv, nk, dv) { $0.uniform(-1, 1) * 0x1p-1060 }
            bias = try! ScoreGrid(
                shape: [hq, nq, nk], values: (0..<hq * nq * nk).map { _ in g.uniform(-1, 1) * 0x1p-1065 },
                parameter: .bias)
            softcap = 0x1p-1000
        case .random: break
        }
        let model = try! ScoreModel(
            mask: p.model.mask, softcap: softcap, bias: bias, alibiSlopes: slopes, sinks: sinks)
        p = Problem(
            q: q, k: k, v: v, shape: p.shape, model: model, causal: p.causal, topLeft: p.topLeft, window: p.window,
            mask: p.mask)
        return p
    }

    @Test(
        "the float engine's output and LSE enclosures contain GMP's, decided, in every regime",
        arguments: Regime.allCases)
    func containsExact(_ regime: Regime) async {
        await propertyCheck(count: 25, input: Gen.int(in: 0...Int.max)) { seed in
            ScoreModelEnclosureTests.expectFloatEngineContainsExact(
                Self.problem(regime, seed: UInt64(seed)), width: 1e-9, label: "\(regime) seed \(seed)")
        }
    }

    @Test("verify with every term: the float engine decides every row, its bound within 1% of GMP's, the LSE too")
    func verifyBoundWithinOnePercentOfExact() throws {
        var g = Xoshiro256StarStar(seed: 20)
        let (nq, nk, d, dv, heads) = (24, 300, 16, 8, 2)
        func t(_ r: Int, _ c: Int, _ s: Double) -> Tensor<Double> {
            Tensor(
                heads: heads, rows: r, cols: c,
                storage: (0..<heads * r * c).map { _ in Double(Float(g.uniform(-s, s))) })
        }
        let q = t(nq, d, 2), k = t(nk, d, 2), v = t(nk, dv, 1)
        let bias = try ScoreGrid(
            shape: [heads, nq, nk], values: (0..<heads * nq * nk).map { _ in Double(Float(g.uniform(-1, 1))) },
            parameter: .bias)
        let model = try ScoreModel(
            mask: AttentionMask(window: try AttentionWindow(left: 200, right: 0)), softcap: 20, bias: bias,
            alibiSlopes: try .perHead([0.0625, 0.25], parameter: .alibi),
            sinks: try .perHead([1.5, -0.5], parameter: .sinks))
        let rows = (0..<heads).flatMap { f in (0..<nq).map { (f, $0) } }
        let exact = try CertifiedAttention.encloseRows(
            q: q, k: k, v: v, scale: .standard, scoreModel: model, precision: 128, rows: rows)
        // A float32 candidate (rounded from the truth, then nudged), and a float32 LSE.
        var cand = Tensor<Double>(
            heads: heads, rows: nq, cols: dv, storage: [Double](repeating: 0, count: heads * nq * dv))
        var lse = [Double](repeating: 0, count: heads * nq)
        for (n, (f, i)) in rows.enumerated() {
            for c in 0..<dv { cand[f, i, c] = Double(Float(exact[n].lo[c]) * (1 + Float(c) * 1e-7)) }
            lse[n] = Double(Float(exact[n].lse.lo))
        }
        let shape = try AttentionShape(q: q, k: k, v: v)
        var options = VerifyOptions(atol: 1e-5)
        options.lse = try LSECandidate(Tensor(heads: heads, rows: nq, cols: 1, storage: lse), shape: shape, atol: 1e-5)
        var reports: [VerifyEngine: TieredVerificationReport] = [:]
        for engine in [VerifyEngine.float, .exact] {
            options.engine = engine
            reports[engine] = try TieredVerification.run(
                q: q, k: k, v: v, candidate: cand, scale: .standard, scoreModel: model, options: options)
        }
        let fl = reports[.float]!, ex = reports[.exact]!
        #expect(fl.rowsFloat == heads * nq && fl.undecided == 0 && fl.passed && ex.passed)
        #expect(
            fl.maxErrorBound >= ex.maxErrorBound * (1 - 1e-6) && fl.maxErrorBound <= 1.01 * ex.maxErrorBound,
            "float \(fl.maxErrorBound) vs GMP \(ex.maxErrorBound)")
        let (lf, le) = (fl.lse!.maxErrorBound, ex.lse!.maxErrorBound)
        #expect(lf <= 1.01 * le && lf >= le * (1 - 1e-6), "LSE: float \(lf) vs GMP \(le)")
    }
}

extension FloatEnclosureTermsTests {
    /// A score whose dot product cancels (‖q‖‖k‖ ≈ 2⁵³, q·k = 0) under a softcap: the float engine cannot
    /// bound it (Δ > 1/4, e = +∞), so `auto` sends the row to GMP/MPFR, which decides it.
    @Test("a row the float engine cannot decide under terms falls to GMP/MPFR and is decided there")
    func undecidedRowsFallToExact() throws {
        let q = Tensor<Double>(rows: 1, cols: 2, storage: [0x1p26, 0x1p26])
        let k = Tensor<Double>(rows: 2, cols: 2, storage: [0x1p26, -0x1p26, 1, 0])
        let v = Tensor<Double>(rows: 2, cols: 1, storage: [1, 2])
        let model = try ScoreModel(softcap: 10, sinks: try .perHead([1], parameter: .sinks))
        let engine = try FloatAttentionEngine(q: q, k: k, v: v, scale: .standard, scoreModel: model)
        var mid = [0.0], rad = [0.0]
        engine.enclose(head: 0, rows: 0, count: 1, workspace: engine.makeWorkspace(), mid: &mid, radius: &rad)
        #expect(rad[0] == .infinity, "the float engine decided a row it cannot bound: e = \(rad[0])")
        let exact = try CertifiedAttention.encloseRows(
            q: q, k: k, v: v, scale: .standard, scoreModel: model, precision: 128, rows: [(0, 0)])
        let cand = Tensor<Double>(rows: 1, cols: 1, storage: [exact[0].lo[0]])
        let r = try TieredVerification.run(
            q: q, k: k, v: v, candidate: cand, scale: .standard, scoreModel: model, options: VerifyOptions(atol: 1e-12))
        #expect(r.passed && r.rowsExact == 1 && r.rowsFloat == 0)
    }
}
