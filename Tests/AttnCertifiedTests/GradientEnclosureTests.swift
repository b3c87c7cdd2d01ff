import AttnCertified
import AttnCore
import Foundation
import PropertyBased
import Testing

/// The certified backward: the float engine's enclosures contain the GMP/MPFR engine's, the MPFR
/// engine is the derivative (finite differences of the certified forward), and `GradientVerification`
/// tiers, reports and refuses as `verify` does for the output.
@Suite("Certified gradients: float engine, MPFR engine, tiered verification")
struct GradientEnclosureTests {
    static func upstream(seed: UInt64, like q: Tensor<Double>, dv: Int) -> Tensor<Double> {
        var g = Xoshiro256StarStar(seed: seed ^ 0x5bd1_e995)
        let s = (0..<q.heads * q.rows * dv).map { _ in Double(Float(g.uniform(-1, 1))) }
        return Tensor(
            heads: q.heads, rows: q.rows, cols: dv, storage: s, logicalRank: q.logicalRank, batch: q.batch,
            headsPerBatch: q.headsPerBatch)
    }

    static func allRows(_ t: Tensor<Double>) -> [MPFRGradientEngine.Row] {
        (0..<t.heads).flatMap { h in (0..<t.rows).map { MPFRGradientEngine.Row(head: h, row: $0) } }
    }

    @Test(
        "the float engine's enclosures contain the MPFR engine's over regimes, causal masks, GQA and 4-D",
        arguments: FloatEnclosureTests.Regime.allCases.filter { $0 != .hugeV })
    func floatContainsExact(_ regime: FloatEnclosureTests.Regime) async {
        await propertyCheck(
            count: 4,
            input: zip(
                Gen.int(in: 0...Int.max), Gen.int(in: 1...2), Gen.int(in: 1...2), Gen.int(in: 1...20),
                Gen.int(in: 1...24))
        ) { p in
            let (seed, batch, group, nq0, nk) = p
            let causal = seed % 2 == 0
            let nq = causal ? min(nq0, nk) : nq0
            let (q, k, v) = FloatEnclosureTests.problem(
                regime, seed: UInt64(seed), batch: batch, headsQ: 2 * group, group: group, nq: nq, nk: nk, d: 4, dv: 3)
            let dO = Self.upstream(seed: UInt64(seed), like: q, dv: 3)
            let scale: Scale = seed % 3 == 0 ? .paper : seed % 3 == 1 ? .standard : .decimal("0.37")
            let shape = try! AttentionShape(q: q, k: k, v: v)
            let float = try! FloatGradientEngine.enclose(
                q: q, k: k, v: v, dO: dO, shape: shape, scale: scale,
                mask: GradientMask(causal ? .causal() : .plain, shape), threads: 2)
            let rows: [GradientName: [MPFRGradientEngine.Row]] = [
                .dq: Self.allRows(q), .dk: Self.allRows(k), .dv: Self.allRows(v),
            ]
            let exact = try! MPFRGradientEngine.enclose(
                q: q, k: k, v: v, dO: dO, shape: shape, scale: scale,
                mask: GradientMask(causal ? .causal() : .plain, shape), precision: 128, rows: rows)
            for name in GradientName.allCases {
                let (lo, hi) = (float.lo[name]!, float.hi[name]!)
                for (req, e) in zip(rows[name]!, exact[name]!) {
                    for c in 0..<e.lo.count {
                        let x = lo.offset(head: req.head, row: req.row) + c
                        // 128 bits: the width is ~2⁻¹²⁰ of the gradients' scale (not of the entry, which may cancel).
                        #expect(e.hi[c] - e.lo[c] <= 4 * max(abs(e.lo[c]), abs(e.hi[c])).ulp + 1e-20)
                        #expect(
                            lo.storage[x] <= e.lo[c] && e.hi[c] <= hi.storage[x],
                            "\(regime) seed \(seed) \(name)[\(req.head),\(req.row),\(c)]: float [\(lo.storage[x]), \(hi.storage[x])] exact [\(e.lo[c]), \(e.hi[c])]"
                        )
                    }
                }
            }
        }
    }

    @Test("the MPFR engine is the derivative: central differences of the certified forward", arguments: [false, true])
    func mpfrMatchesFiniteDifferences(causal: Bool) throws {
        let (q, k, v) = FloatEnclosureTests.problem(
            .plain, seed: 5, batch: 1, headsQ: 1, group: 1, nq: 3, nk: 4, d: 3, dv: 2)
        let dO = Self.upstream(seed: 5, like: q, dv: 2)
        let shape = try AttentionShape(q: q, k: k, v: v)
        let exact = try MPFRGradientEngine.enclose(
            q: q, k: k, v: v, dO: dO, shape: shape, scale: .standard,
            mask: GradientMask(causal ? .causal() : .plain, shape), precision: 128,
            rows: [.dq: Self.allRows(q), .dk: Self.allRows(k), .dv: Self.allRows(v)])
        func loss(_ q: Tensor<Double>, _ k: Tensor<Double>, _ v: Tensor<Double>) throws -> Double {
            let o = try CertifiedAttention.compute(
                q: q, k: k, v: v, scale: .standard, scoreModel: causal ? .causal() : .plain, precision: 128)
            return (0..<o.lower.count).reduce(0) { $0 + (o.lower[flat: $1] / 2 + o.upper[flat: $1] / 2) * dO[flat: $1] }
        }
        let h = 1e-6
        for (name, t) in [(GradientName.dq, q), (.dk, k), (.dv, v)] {
            for x in 0..<t.count {
                var plus = t, minus = t
                plus[flat: x] += h
                minus[flat: x] -= h
                let args = { (u: Tensor<Double>) in name == .dq ? (u, k, v) : name == .dk ? (q, u, v) : (q, k, u) }
                let (a, b) = (args(plus), args(minus))
                let fd = (try loss(a.0, a.1, a.2) - loss(b.0, b.1, b.2)) / (2 * h)
                let e = exact[name]![x / t.cols]
                let mid = e.lo[x % t.cols] / 2 + e.hi[x % t.cols] / 2
                #expect(abs(fd - mid) < 1e-7, "\(name) entry \(x): finite difference \(fd) vs certified \(mid)")
            }
        }
    }

    /// A float16-like candidate: the truth perturbed by about 10⁻³ relative (as a GPU kernel's gradients).
    static func candidates(
        _ q: Tensor<Double>, _ k: Tensor<Double>, _ v: Tensor<Double>, _ dO: Tensor<Double>, causal: Bool
    )
        throws -> [GradientName: Tensor<Double>]
    {
        let shape = try AttentionShape(q: q, k: k, v: v)
        let enc = try FloatGradientEngine.enclose(
            q: q, k: k, v: v, dO: dO, shape: shape, scale: .standard,
            mask: GradientMask(causal ? .causal() : .plain, shape), threads: 1)
        var rng = Xoshiro256StarStar(seed: 99)
        var out: [GradientName: Tensor<Double>] = [:]
        for name in GradientName.allCases {
            var t = enc.lo[name]!
            for x in 0..<t.count {
                t[flat: x] = (enc.lo[name]![flat: x] / 2 + enc.hi[name]![flat: x] / 2) * (1 + rng.uniform(-1e-3, 1e-3))
            }
            out[name] = t
        }
        return out
    }

    @Test("float and GMP/MPFR engines report the same max error bound to within 1%")
    func enginesAgree() throws {
        let (q, k, v) = FloatEnclosureTests.problem(
            .plain, seed: 8, batch: 1, headsQ: 2, group: 2, nq: 40, nk: 56, d: 8, dv: 4)
        let dO = Self.upstream(seed: 8, like: q, dv: 4)
        let cands = try Self.candidates(q, k, v, dO, causal: true)
        var options = VerifyOptions(atol: 1e-2)
        options.engine = .float
        let float = try GradientVerification.run(
            q: q, k: k, v: v, dO: dO, candidates: cands, scale: .standard, scoreModel: .causal(), options: options)
        options.engine = .exact
        let exact = try GradientVerification.run(
            q: q, k: k, v: v, dO: dO, candidates: cands, scale: .standard, scoreModel: .causal(), options: options)
        for name in GradientName.allCases {
            let (f, e) = (float[name]!, exact[name]!)
            #expect(f.passed && e.passed && e.rowsExact > 0 && f.rowsFloat > 0)
            #expect(
                e.maxErrorBound <= f.maxErrorBound && f.maxErrorBound <= 1.01 * e.maxErrorBound,
                "\(name): \(f.maxErrorBound) vs \(e.maxErrorBound)")
            #expect(f.maxErrorBound > 0)
        }
    }

    @Test("a certifiably wrong entry fails, with its location; auto sends nothing to MPFR when floats decide")
    func failingEntryIsLocated() throws {
        let (q, k, v) = FloatEnclosureTests.problem(
            .plain, seed: 3, batch: 1, headsQ: 2, group: 1, nq: 9, nk: 12, d: 4, dv: 3)
        let dO = Self.upstream(seed: 3, like: q, dv: 3)
        var cands = try Self.candidates(q, k, v, dO, causal: false)
        cands[.dk]![1, 7, 2] += 0.5
        let r = try GradientVerification.run(
            q: q, k: k, v: v, dO: dO, candidates: cands, scale: .standard, scoreModel: .plain,
            options: VerifyOptions(atol: 1e-2))
        #expect(r[.dk]!.failing == 1 && (r[.dk]!.head, r[.dk]!.row, r[.dk]!.col) == (1, 7, 2))
        #expect(r[.dq]!.passed && r[.dv]!.passed && r[.dq]!.rowsExact == 0)
    }

    @Test("wrong shapes and NaN in dO are refused, naming the input")
    func refusesBadInputs() throws {
        let (q, k, v) = FloatEnclosureTests.problem(
            .plain, seed: 1, batch: 1, headsQ: 1, group: 1, nq: 3, nk: 4, d: 2, dv: 2)
        let dO = Self.upstream(seed: 1, like: q, dv: 2)
        func blame(_ dO: Tensor<Double>, _ c: [GradientName: Tensor<Double>]) -> Parameter? {
            do {
                _ = try GradientVerification.run(
                    q: q, k: k, v: v, dO: dO, candidates: c, scale: .standard, scoreModel: .plain,
                    options: VerifyOptions(atol: 1))
            } catch let e as AttnError { return e.parameter } catch { return nil }
            return nil
        }
        #expect(blame(dO, [.dq: k]) == .dqCandidate)
        #expect(blame(dO, [.dk: q]) == .dkCandidate)
        #expect(blame(dO, [.dv: Tensor(rows: 4, cols: 3)]) == .dvCandidate)
        #expect(blame(Tensor(rows: 3, cols: 3), [.dq: q]) == .dO)
        var bad = dO
        bad[0, 1, 1] = .nan
        #expect(blame(bad, [.dq: q]) == .dO)
    }
}
