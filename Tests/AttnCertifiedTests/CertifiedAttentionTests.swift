import AttnCertified
import AttnCore
import PropertyBased
import Testing

/// Certified attention: exact cases, agreement with an independent interval
/// computation, invariances, precision behaviour.
@Suite struct CertifiedAttentionTests {
    /// n_k = 1: the only weight is exp(0)/exp(0) = 1, so O = v₁ exactly (lo = hi).
    @Test func singleKeyGivesV1Exactly() async throws {
        await propertyCheck(
            count: 30,
            input: zip(
                Gen.int(in: 0...Int.max), Gen.int(in: 1...5),
                anyScale)
        ) { seed, d, scale in
            let p = Problem(seed: UInt64(seed), nq: 3, nk: 1, d: d, dv: 4, bound: 100)
            let r = try! CertifiedAttention.compute(q: p.q, k: p.k, v: p.v, scale: scale, precision: 64)
            for i in 0..<3 {
                for c in 0..<4 {
                    #expect(r.lower[0, i, c] == Double(p.v[0, 0, c]) && r.upper[0, i, c] == Double(p.v[0, 0, c]))
                }
            }
        }
    }

    /// Q = 0: every score is 0, so O is the mean of V: exact (lo = hi) when n_k
    /// is a power of two and V is on a coarse dyadic grid; enclosed otherwise.
    @Test func equalScoresGiveTheMeanOfV() async throws {
        await propertyCheck(count: 30, input: zip(Gen.int(in: -64...64).array(of: 1...9), Gen.int(in: 1...4))) {
            ints, d in
            let nk = ints.count
            let v = Tensor<Float>(rows: nk, cols: 1, storage: ints.map { Float($0) / 8 })
            let q = Tensor<Float>(rows: 2, cols: d),
                k = Tensor<Float>(
                    rows: nk, cols: d,
                    storage: (0..<nk * d).map { Float($0 % 7) - 3 })
            let r = try! CertifiedAttention.compute(q: q, k: k, v: v, scale: .standard, precision: 128)
            let mean = CertifiedInterval(numerator: ints.reduce(0, +), denominator: 8 * nk, precision: 200)
            for i in 0..<2 {
                let got = CertifiedInterval(lower: r.lower[0, i, 0], upper: r.upper[0, i, 0], precision: 64)
                #expect(got.contains(mean))
                if nk & (nk - 1) == 0 { #expect(got.isPoint) }
            }
        }
    }

    /// d = 1 with scale 1: scores q·k are exact doubles, so the whole softmax
    /// can be recomputed independently with `CertifiedInterval` arithmetic
    /// (max subtracted, exp, sums, quotient). The two enclosures must overlap,
    /// for any magnitude up to scores of ±10⁶, and ours must be tight.
    @Test func agreesWithIntervalArithmeticUpToHugeScores() async throws {
        await propertyCheck(
            count: 40,
            input: zip(
                Gen.int(in: 0...Int.max), Gen.int(in: 1...8),
                Gen.element(of: [1.0, 30, 1000]).map { $0! })
        ) { seed, nk, b in
            let p = Problem(seed: UInt64(seed), nq: 2, nk: nk, d: 1, dv: 2, bound: b)
            let r = try! CertifiedAttention.compute(q: p.q, k: p.k, v: p.v, scale: .decimal("1"), precision: 256)
            for i in 0..<2 {
                let scores = (0..<nk).map { Double(p.q[0, i, 0]) * Double(p.k[0, $0, 0]) }  // exact: 24 + 24 bits
                let m = scores.max()!
                let w = scores.map {
                    (CertifiedInterval($0, precision: 300) - CertifiedInterval(m, precision: 300)).exp()
                }
                let l = w.dropFirst().reduce(w[0], +)
                for c in 0..<2 {
                    let num = (0..<nk).map { w[$0] * CertifiedInterval(Double(p.v[0, $0, c]), precision: 300) }
                    let o = num.dropFirst().reduce(num[0], +) / l
                    let got = CertifiedInterval(lower: r.lower[0, i, c], upper: r.upper[0, i, c], precision: 64)
                    #expect(got.overlaps(o), "\(p) row \(i) col \(c): \(got) vs \(o)")
                }
            }
            #expect(r.maxWidth <= 0x1p-240 * Double(p.v.maxAbs))
        }
    }

    /// Two precisions enclose the same numbers: entrywise overlap, and the
    /// higher precision is narrower.
    @Test func precisionsOverlapAndHigherIsNarrower() async throws {
        await propertyCheck(count: 25, input: zip(smallProblems, anyScale, Gen.bool())) { p, scale, causal in
            let low = try! CertifiedAttention.compute(
                q: p.q, k: p.k, v: p.v, scale: scale, scoreModel: causal ? .causal() : .plain, precision: 40)
            let high = try! CertifiedAttention.compute(
                q: p.q, k: p.k, v: p.v, scale: scale, scoreModel: causal ? .causal() : .plain, precision: 160)
            for e in 0..<low.lower.count {
                #expect(low.lower.storage[e] <= high.upper.storage[e] && high.lower.storage[e] <= low.upper.storage[e])
            }
            #expect(high.maxWidth < low.maxWidth || low.maxWidth == 0)
        }
    }

    /// exp by tables and exp by MPFR are two certified routes to the same
    /// numbers: entrywise overlap, both widths within 2^-(p−8)·max|V|.
    @Test func tableExpAndMPFRExpAgree() async throws {
        await propertyCheck(
            count: 25, input: zip(smallProblems, anyScale, Gen.element(of: [64, 200, 256, 700]).map { $0! })
        ) { p, scale, bits in
            let a = try! CertifiedAttention.compute(
                q: p.q, k: p.k, v: p.v, scale: scale, precision: bits, expMethod: .tables)
            let b = try! CertifiedAttention.compute(
                q: p.q, k: p.k, v: p.v, scale: scale, precision: bits, expMethod: .mpfr)
            for e in 0..<a.lower.count {
                #expect(a.lower.storage[e] <= b.upper.storage[e] && b.lower.storage[e] <= a.upper.storage[e])
            }
            let limit = Double(sign: .plus, exponent: 8 - bits, significand: 1) * max(Double(p.v.maxAbs), 0x1p-1000)
            #expect(a.maxWidth <= limit && b.maxWidth <= limit, "\(p)")
        }
    }

    /// On ordinary inputs 256 bits give enclosures no wider than 2⁻²⁴⁰·max|V|.
    @Test func widthAt256BitsIsBelow2ToMinus240() async throws {
        await propertyCheck(
            count: 10,
            input: zip(
                Gen.int(in: 0...Int.max), anyScale,
                Gen.element(of: InputDistribution.allCases).map { $0! })
        ) { seed, scale, dist in
            let p = Problem(seed: UInt64(seed), heads: 2, nq: 24, nk: 40, d: 7, dv: 3, bound: 2, distribution: dist)
            let r = try! CertifiedAttention.compute(q: p.q, k: p.k, v: p.v, scale: scale, precision: 256)
            #expect(r.maxWidth <= 0x1p-240 * Double(p.v.maxAbs), "\(p)")
        }
    }

    /// Permuting the keys (with their values) changes nothing: every sum is exact.
    /// Threads change nothing either.
    @Test func keyPermutationAndThreadsGiveIdenticalEnclosures() async throws {
        await propertyCheck(count: 20, input: zip(smallProblems, anyScale)) { p, scale in
            let nk = p.k.rows
            let perm = Array((0..<nk).reversed())
            let k2 = Tensor<Float>(
                rows: nk, cols: p.k.cols, storage: perm.flatMap { j in (0..<p.k.cols).map { p.k[0, j, $0] } })
            let v2 = Tensor<Float>(
                rows: nk, cols: p.v.cols, storage: perm.flatMap { j in (0..<p.v.cols).map { p.v[0, j, $0] } })
            let a = try! CertifiedAttention.compute(q: p.q, k: p.k, v: p.v, scale: scale, precision: 96, threads: 1)
            let b = try! CertifiedAttention.compute(q: p.q, k: k2, v: v2, scale: scale, precision: 96, threads: 2)
            #expect(a.lower == b.lower && a.upper == b.upper)
        }
    }

    /// Scale conventions are exact rationals: paper at d = 4 is the decimal 0.25;
    /// standard at d = 16 is 1/4 too; Q·2 with s/2 is the same problem.
    @Test func scaleConventionsAreExact() async throws {
        await propertyCheck(count: 15, input: Gen.int(in: 0...Int.max)) { seed in
            let p = Problem(seed: UInt64(seed), nq: 4, nk: 6, d: 4, dv: 2, bound: 3)
            let paper = try! CertifiedAttention.compute(q: p.q, k: p.k, v: p.v, scale: .paper)
            let dec = try! CertifiedAttention.compute(q: p.q, k: p.k, v: p.v, scale: .decimal("0.25"))
            let q2 = Tensor<Float>(rows: 4, cols: 4, storage: p.q.storage.map { $0 * 2 })
            let halved = try! CertifiedAttention.compute(q: q2, k: p.k, v: p.v, scale: .decimal("0.125"))
            #expect(paper.lower == dec.lower && paper.upper == dec.upper)
            #expect(halved.lower == dec.lower && halved.upper == dec.upper)
            let p16 = Problem(seed: UInt64(seed), nq: 3, nk: 5, d: 16, dv: 2, bound: 1)
            let std = try! CertifiedAttention.compute(q: p16.q, k: p16.k, v: p16.v, scale: .standard)
            let quarter = try! CertifiedAttention.compute(q: p16.q, k: p16.k, v: p16.v, scale: .decimal("0.25"))
            #expect(std.lower == quarter.lower && std.upper == quarter.upper)
        }
    }

    /// Causal row i equals the unmasked computation over keys 0…i + n_k − n_q.
    @Test func causalRowEqualsTruncatedKeys() async throws {
        await propertyCheck(count: 15, input: smallProblems) { p in
            let (nq, nk) = (p.q.rows, p.k.rows)
            let r = try! CertifiedAttention.compute(
                q: p.q, k: p.k, v: p.v, scale: .standard, scoreModel: .causal(), precision: 80)
            for i in 0..<nq {
                let last = i + nk - nq
                let qi = Tensor<Float>(rows: 1, cols: p.q.cols, storage: (0..<p.q.cols).map { p.q[0, i, $0] })
                let kt = Tensor<Float>(
                    rows: last + 1, cols: p.k.cols, storage: Array(p.k.storage[0..<(last + 1) * p.k.cols]))
                let vt = Tensor<Float>(
                    rows: last + 1, cols: p.v.cols, storage: Array(p.v.storage[0..<(last + 1) * p.v.cols]))
                let t = try! CertifiedAttention.compute(q: qi, k: kt, v: vt, scale: .standard, precision: 80)
                for c in 0..<p.v.cols {
                    #expect(t.lower[0, 0, c] == r.lower[0, i, c] && t.upper[0, 0, c] == r.upper[0, i, c])
                }
            }
        }
    }

    /// The GMP paths compute the same numbers as the machine-integer paths: an
    /// extra Q column holding a subnormal (against a zero K column) leaves every
    /// score unchanged but forces GMP dot products; an extra V column holding
    /// 2⁻¹⁴⁹ and 2¹²⁰ forces GMP accumulation. The enclosures must be identical.
    @Test func bigIntegerPathsAgreeWithMachineIntegerPaths() async throws {
        await propertyCheck(count: 15, input: smallProblems) { p in
            func widen(_ t: Tensor<Float>, _ extra: (Int) -> Float) -> Tensor<Float> {
                Tensor(
                    rows: t.rows, cols: t.cols + 1,
                    storage: (0..<t.rows).flatMap { r in
                        (0..<t.cols).map { t[0, r, $0] } + [extra(r)]
                    })
            }
            let q2 = widen(p.q) { _ in .leastNonzeroMagnitude }, k2 = widen(p.k) { _ in 0 }
            let v2 = widen(p.v) { r in r % 2 == 0 ? .leastNonzeroMagnitude : 0x1p120 }
            let plain = try! CertifiedAttention.compute(q: p.q, k: p.k, v: p.v, scale: .decimal("0.5"), precision: 96)
            let big = try! CertifiedAttention.compute(q: q2, k: k2, v: v2, scale: .decimal("0.5"), precision: 96)
            for i in 0..<p.q.rows {
                for c in 0..<p.v.cols {
                    #expect(plain.lower[0, i, c] == big.lower[0, i, c] && plain.upper[0, i, c] == big.upper[0, i, c])
                }
            }
        }
    }

    /// Subnormal and widely spread inputs take the GMP paths; the n_k = 1 and
    /// equal-score identities still hold exactly there.
    @Test func subnormalInputsUseExactBigIntegers() throws {
        let tiny = Float.leastNonzeroMagnitude
        let q = Tensor<Float>(rows: 1, cols: 2, storage: [tiny, 1e30])
        let k = Tensor<Float>(rows: 2, cols: 2, storage: [1e30, 0, 1e30, 0])  // equal scores 1e30·tiny
        let v = Tensor<Float>(rows: 2, cols: 2, storage: [tiny, 3e38, -tiny, 1e-38])
        let r = try CertifiedAttention.compute(q: q, k: k, v: v, scale: .decimal("1"), precision: 64)
        #expect(r.lower[0, 0, 0] == 0 && r.upper[0, 0, 0] == 0)
        let mean = (Double(3e38 as Float) + Double(1e-38 as Float)) / 2
        #expect(r.lower[0, 0, 1] <= mean && mean <= r.upper[0, 0, 1])

        // Float64 subnormals (2⁻¹⁰⁷⁴) next to 1e300: n_k = 1 still returns v₁ exactly.
        let dq = Tensor<Double>(rows: 2, cols: 2, storage: [.leastNonzeroMagnitude, 1e300, -3, 0x1p-1050])
        let dk = Tensor<Double>(rows: 1, cols: 2, storage: [1e-300, .leastNonzeroMagnitude])
        let dv = Tensor<Double>(rows: 1, cols: 3, storage: [.leastNonzeroMagnitude, -1e308, 0.1])
        let one = try CertifiedAttention.compute(q: dq, k: dk, v: dv, scale: .standard, precision: 64)
        #expect(one.lower.storage == dv.storage + dv.storage && one.upper.storage == dv.storage + dv.storage)
    }

    /// Bad input is a usage error (exit 2 in the CLI), an absurd size is infeasible.
    @Test func badInputThrows() {
        let q = Tensor<Float>(rows: 2, cols: 3), k = Tensor<Float>(rows: 2, cols: 3),
            v = Tensor<Float>(rows: 2, cols: 1)
        #expect(throws: AttnError.self) {
            try CertifiedAttention.compute(q: q, k: Tensor<Float>(rows: 2, cols: 2), v: v, scale: .paper)
        }
        #expect(throws: AttnError.self) {
            try CertifiedAttention.compute(q: q, k: k, v: v, scale: .paper, precision: 4)
        }
        let nan = Tensor<Float>(rows: 2, cols: 3, storage: [0, .nan, 0, 0, 0, 0])
        #expect(throws: AttnError.self) { try CertifiedAttention.compute(q: nan, k: k, v: v, scale: .paper) }
        // Causal with n_q > n_k is no longer an error: row 0 sees no key and is 0 exactly (issue 20).
        let big = Tensor<Float>(rows: 3, cols: 3, storage: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let vv = Tensor<Float>(rows: 2, cols: 1, storage: [3, 5])
        let out = try? CertifiedAttention.compute(q: big, k: k, v: vv, scale: .paper, scoreModel: .causal())
        #expect(out?.lower[0, 0, 0] == 0 && out?.upper[0, 0, 0] == 0)
        #expect(out?.lower[0, 1, 0] == 3 && out?.upper[0, 1, 0] == 3)  // row 1 sees key 0 only
        do {
            _ = try CertifiedAttention.compute(
                q: Tensor<Float>(rows: 9000, cols: 1), k: Tensor<Float>(rows: 9000, cols: 1),
                v: Tensor<Float>(rows: 9000, cols: 1), scale: .paper)
            Issue.record("expected infeasible")
        } catch let e as AttnError { #expect(e.kind == .infeasible) } catch { Issue.record("\(error)") }
    }
}
