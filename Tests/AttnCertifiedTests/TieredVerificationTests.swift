import AttnCertified
import AttnCore
import Foundation
import PropertyBased
import Testing

/// Tiered verify agrees with the exact engine (Proofs/float-certified-engine.md, §6).
@Suite("Tiered verify: float engine first, GMP/MPFR for the undecided rows")
struct TieredVerificationTests {
    struct Case {
        let name: String, q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, scale: Scale, causal: Bool
        var scoreModel: ScoreModel { causal ? .causal() : .plain }
        init(_ c: ConformanceCase) {
            (name, q, k, v, scale, causal) = (c.name, c.q, c.k, c.v, c.scale, c.scoreModel.mask.isCausal)
        }
        init(name: String, q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>) {
            (self.name, self.q, self.k, self.v, scale, causal) = (name, q, k, v, .standard, false)
        }
    }

    static func exactMidpoints(_ c: Case) throws -> Tensor<Double> {
        let enc = try CertifiedAttention.compute(
            q: c.q, k: c.k, v: c.v, scale: c.scale, scoreModel: c.scoreModel, precision: 128)
        return Tensor(
            heads: enc.lower.heads, rows: enc.lower.rows, cols: enc.lower.cols,
            storage: zip(enc.lower.storage, enc.upper.storage).map { $0 / 2 + $1 / 2 }, logicalRank: c.q.logicalRank)
    }

    static func run(_ c: Case, _ cand: Tensor<Double>, atol: Double, rtol: Double, engine: VerifyEngine) throws
        -> TieredVerificationReport
    {
        var o = VerifyOptions(atol: atol, rtol: rtol)
        o.engine = engine; o.precision = 128
        return try TieredVerification.run(
            q: c.q, k: c.k, v: c.v, candidate: cand, scale: c.scale, scoreModel: c.scoreModel, options: o)
    }

    @Test("auto, float and exact give the same verdicts on every conformance vector (float32 candidates, perturbed)")
    func conformance() throws {
        for c in ConformanceCases.all(seed: 3).map(Case.init) {
            let truth = try Self.exactMidpoints(c)
            var cand = truth.converted(to: Float.self).converted(to: Double.self)
            let mid = cand.count / 2
            cand[flat: mid] += 1e-4 * max(1, abs(cand[flat: mid]))
            for (atol, rtol) in [(1e-6, 0.0), (1e-5, 1e-5), (0.0, 1e-3)] {
                let exact = try Self.run(c, cand, atol: atol, rtol: rtol, engine: .exact)
                let auto = try Self.run(c, cand, atol: atol, rtol: rtol, engine: .auto)
                let float = try Self.run(c, cand, atol: atol, rtol: rtol, engine: .float)
                #expect(exact.undecided == 0, "\(c.name) \(atol) \(rtol) \(exact.text)")
                #expect(
                    auto.passed == exact.passed && auto.failing == exact.failing && auto.undecided == 0, "\(c.name)")
                #expect(auto.rowsFloat + auto.rowsExact == exact.rowsExact)
                // The float engine alone never contradicts exact: it may only leave entries undecided.
                #expect(float.failing <= exact.failing && float.failing + float.undecided >= exact.failing, "\(c.name)")
                // Certified bounds: both ≥ the true max error, so each is ≥ the other's lower view.
                #expect(auto.maxErrorBound >= exact.maxErrorBound * (1 - 1e-9) - 1e-300, "\(c.name)")
                #expect(auto.maxErrorBound <= exact.maxErrorBound * 1.01 + 1e-12, "\(c.name): bound not tight")
            }
        }
    }

    @Test(
        "candidates just inside and just outside the tolerance: the float engine decides the clear ones, GMP the rest, all as exact"
    )
    func boundary() async {
        await propertyCheck(count: 8, input: Gen.int(in: 0...Int.max)) { seed in
            var g = Xoshiro256StarStar(seed: UInt64(seed))
            let (nq, nk, d, dv) = (6, 9, 4, 3)
            func t(_ r: Int, _ c: Int, _ b: Double) -> Tensor<Double> {
                Tensor(rows: r, cols: c, storage: (0..<r * c).map { _ in Double(Float(g.uniform(-b, b))) })
            }
            let c = Case(name: "boundary", q: t(nq, d, 3), k: t(nk, d, 3), v: t(nk, dv, 1))
            let truth = try! Self.exactMidpoints(c)
            let tol = 0x1p-10
            var cand = truth
            // Row r, entry 0 sits at distance tol·(1 + f_r) from the truth: clear (float engine), 2e-15 away
            // (inside the float engine's e ≳ 1e-14, outside GMP's one-ulp Double enclosure), and razor-thin
            // (2⁻⁷⁰: within one ulp, so undecided even at 128 bits once rounded to Double — by both engines alike).
            let offsets: [Double] = [-1e-3, 1e-3, -2e-12, 2e-12, -0x1p-60, 0x1p-60]
            for rtol in [0.0, 0x1p-20] {
                for (r, f) in offsets.enumerated() {
                    let t0 = truth[0, r, 0], allowed = tol + rtol * abs(t0)
                    cand[0, r, 0] = t0 + (t0 >= 0 ? 1 : -1) * allowed * (1 + f)  // away from 0: |truth| stays the same
                }
                let exact = try! Self.run(c, cand, atol: tol, rtol: rtol, engine: .exact)
                let auto = try! Self.run(c, cand, atol: tol, rtol: rtol, engine: .auto)
                #expect(
                    auto.failing == exact.failing && auto.passed == exact.passed && auto.undecided == exact.undecided)
                #expect(auto.rowsExact >= 2, "rows within e of the tolerance must reach GMP and be decided there")
                #expect(auto.rowsFloat >= 2, "clear rows must be decided in floating point")
            }
        }
    }

    @Test("head shards merge into the full report; mismatched or overlapping shards are rejected")
    func shardsMerge() throws {
        var g = Xoshiro256StarStar(seed: 11)
        func t(_ h: Int, _ r: Int, _ c: Int) -> Tensor<Double> {
            Tensor(
                heads: h, rows: r, cols: c, storage: (0..<h * r * c).map { _ in Double(Float(g.uniform(-2, 2))) },
                logicalRank: 4, batch: 1, headsPerBatch: h)
        }
        let (q, k, v) = (t(4, 5, 3), t(2, 7, 3), t(2, 7, 2))
        let exact = try CertifiedAttention.encloseRows(
            q: q, k: k, v: v, scale: .standard, scoreModel: .plain, precision: 128,
            rows: (0..<4).flatMap { f in (0..<5).map { (f, $0) } })
        var o = Tensor<Double>(heads: 4, rows: 5, cols: 2, logicalRank: 4, batch: 1, headsPerBatch: 4)
        for (n, x) in exact.enumerated() {
            for col in 0..<2 { let m: Double = x.lo[col] / 2 + x.hi[col] / 2; o[flat: n * 2 + col] = Double(Float(m)) }
        }
        o[flat: 3 * 10 + 4 * 2 + 1] += 0.01
        var opt = VerifyOptions(atol: 1e-6)
        let full = try TieredVerification.run(
            q: q, k: k, v: v, candidate: o, scale: .standard, scoreModel: .plain, options: opt)
        #expect(full.failing == 1 && full.head == 3 && full.row == 4 && full.col == 1)
        var parts: [TieredVerificationReport] = []
        for r in [0..<1, 1..<3, 3..<4] {
            opt.heads = r
            parts.append(
                try TieredVerification.run(
                    q: q, k: k, v: v, candidate: o, scale: .standard, scoreModel: .plain, options: opt))
        }
        let merged = try TieredVerificationReport.merge(parts.reversed())
        #expect(
            merged.failing == full.failing && merged.entries == full.entries
                && merged.maxErrorBound == full.maxErrorBound)
        #expect((merged.head, merged.row, merged.col) == (3, 4, 1) && merged.headRanges == [0..<1, 1..<3, 3..<4])
        let roundTrip = try TieredVerificationReport(json: JSONValue.object(merged.jsonFields).serialized())
        #expect(roundTrip == merged)
        #expect(throws: AttnError.self) { _ = try TieredVerificationReport.merge([parts[0], parts[0]]) }
        opt.heads = 2..<9
        #expect(throws: AttnError.self) {
            _ = try TieredVerification.run(
                q: q, k: k, v: v, candidate: o, scale: .standard, scoreModel: .plain, options: opt)
        }
    }
}

extension TieredVerificationTests {
    /// A float32 attention computed the plain way (scores, max, exp, sum, divide), as a PyTorch SDPA would.
    static func float32Attention(_ q: Tensor<Double>, _ k: Tensor<Double>, _ v: Tensor<Double>) -> Tensor<Double> {
        let (h, n, m, d, dv) = (q.heads, q.rows, k.rows, q.cols, v.cols)
        var o = Tensor<Double>(heads: h, rows: n, cols: dv, logicalRank: 3)
        let s = Float(1 / Double(d).squareRoot())
        for f in 0..<h {
            for i in 0..<n {
                var w = [Float](repeating: 0, count: m)
                for j in 0..<m {
                    var t: Float = 0; for c in 0..<d { t += Float(q[f, i, c]) * Float(k[f, j, c]) }; w[j] = t * s
                }
                let mx = w.max()!
                var l: Float = 0
                for j in 0..<m { w[j] = Foundation.exp(w[j] - mx); l += w[j] }
                for c in 0..<dv {
                    var acc: Float = 0; for j in 0..<m { acc += w[j] * Float(v[f, j, c]) }; o[f, i, c] = Double(acc / l)
                }
            }
        }
        return o
    }

    @Test(
        "tightness: the float engine's certified bound is within 1% of the true max error (GMP) for float32 and float16 candidates"
    )
    func tightness() throws {
        var g = Xoshiro256StarStar(seed: 5)
        func t(_ r: Int, _ c: Int) -> Tensor<Double> {
            Tensor(
                heads: 2, rows: r, cols: c, storage: (0..<2 * r * c).map { _ in Double(Float(g.uniform(-1.5, 1.5))) },
                logicalRank: 3)
        }
        let (q, k, v) = (t(96, 64), t(128, 64), t(128, 32))
        let f32 = Self.float32Attention(q, k, v)
        var f16 = f32
        for i in 0..<f16.count { f16[flat: i] = Double(Float16(f16[flat: i])) }
        let c = Case(name: "tight", q: q, k: k, v: v)
        for (name, cand) in [("float32", f32), ("float16", f16)] {
            let float = try Self.run(c, cand, atol: 1, rtol: 0, engine: .float)
            let exact = try Self.run(c, cand, atol: 1, rtol: 0, engine: .exact)
            #expect(float.rowsFloat == 2 * 96, "\(name)")
            #expect(float.maxErrorBound >= exact.maxErrorBound * (1 - 1e-12), "\(name)")
            #expect(
                float.maxErrorBound <= 1.01 * exact.maxErrorBound,
                "\(name): \(float.maxErrorBound) vs \(exact.maxErrorBound)")
        }
    }
}
