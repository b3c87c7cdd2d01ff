import AttnCertified
import AttnCore
import AttnKernels
import AttnPoly
import Foundation
import PropertyBased
import Testing

/// The a-priori bound returned with every polynomial-method result is never
/// violated: T ± bound contains the certified enclosure of the exact
/// attention, on tiny random problems with B across the range, every family,
/// both precisions.
struct AprioriBoundTests {
    /// Checks [T − bound_i, T + bound_i] ⊇ the certified enclosure [lo, hi] of
    /// the exact attention (AttnCertified, 64 bits, exact scale), entrywise.
    static func check<T: KernelScalar>(_ prob: Problem, as: T.Type, scale: Scale, options: PolyOptions) throws -> (
        err: Double, bound: Double
    ) {
        try check(
            q: prob.q.converted(to: T.self), k: prob.k.converted(to: T.self), v: prob.v.converted(to: T.self),
            scale: scale, options: options)
    }

    static func check<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        options: PolyOptions
    ) throws -> (err: Double, bound: Double) {
        let res = try PolyAttention.compute(q: q, k: k, v: v, scale: scale, options: options)
        let cert = try CertifiedAttention.compute(q: q, k: k, v: v, scale: scale, precision: 64, threads: 1)
        var worstExcess = -Double.infinity, worstErr = 0.0
        for h in 0..<q.heads {
            for i in 0..<q.rows {
                let b = res.heads[h].bound.rows[i]
                for c in 0..<v.cols {
                    let o = Double(res.output[h, i, c])
                    let (lo, hi) = (cert.lower[h, i, c], cert.upper[h, i, c])
                    // Distance from the output to the farthest point of the enclosure.
                    let e = max(abs(o - lo), abs(hi - o))
                    worstErr = max(worstErr, e)
                    worstExcess = max(worstExcess, e - b)
                }
            }
        }
        #expect(worstExcess <= 0, "error exceeds bound by \(worstExcess)")
        return (worstErr, res.maxErrorBound)
    }

    /// ≥ 10⁴ cases: n ≤ 8, d ≤ 3, B log-uniform in [10⁻³, 3], ε in [10⁻¹², 10⁻¹].
    @Test func boundNeverViolated() async throws {
        await propertyCheck(
            count: 10_000,
            input: Gen.int(in: 0...Int(Int32.max)), Gen.element(of: ExpFamily.allCases),
            Gen.double(in: -3...log10(3)), Gen.double(in: -12 ... -1), Gen.int(in: 0...7)
        ) { seed, f, lb, le, shape in
            var rng = Xoshiro256StarStar(seed: UInt64(seed))
            let nq = 1 + rng.below(8), nk = 1 + rng.below(8), d = 1 + rng.below(3), dv = 1 + rng.below(3)
            let heads = 1 + shape % 2
            let dist = InputDistribution.allCases[shape % 3]
            let prob = Problem(
                seed: UInt64(seed), heads: heads, nq: nq, nk: nk, d: d, dv: dv, bound: pow(10, lb), distribution: dist)
            let scale = testScales[rng.below(testScales.count)]
            let degree: PolyOptions.Degree = shape < 6 ? .epsilon(pow(10, le)) : .degree(rng.below(8))
            let options = PolyOptions(
                family: f!, degree: degree, radius: shape % 4 == 3 ? .entryBound(pow(10, lb)) : .measured)
            if shape % 2 == 0 {
                _ = try Self.check(prob, as: Double.self, scale: scale, options: options)
            } else {
                _ = try Self.check(prob, as: Float.self, scale: scale, options: options)
            }
        }
    }

    /// Subnormal V (issue 11): entries m·τ with |m| ≤ 40 (τ the smallest subnormal), so every product
    /// û₂·v and the final division err by up to τ/2 absolutely while the relative terms of the bound are
    /// ~10⁻³τ. Float32 only: there the exact enclosure (64 bits, in Double) resolves τ; in Float64 it is
    /// rounded to multiples of τ itself. Fails without the underflow term (mutation row `poly-underflow`).
    @Test(arguments: [ExpFamily.chebyshev, .taylor, .shifted])
    func subnormalValuesStayWithinTheBound(family: ExpFamily) throws {
        var worst = 0.0
        for seed in 0..<60 {
            var rng = Xoshiro256StarStar(seed: UInt64(seed) &+ 0x5AB)
            let nq = 1 + rng.below(4), nk = 1 + rng.below(16), d = 1 + rng.below(3), dv = 1 + rng.below(3)
            let q: Tensor<Float> = InputDistribution.uniform.sample(heads: 1, rows: nq, cols: d, bound: 1, using: &rng)
            let k: Tensor<Float> = InputDistribution.uniform.sample(heads: 1, rows: nk, cols: d, bound: 1, using: &rng)
            var v = Tensor<Float>(heads: 1, rows: nk, cols: dv)
            for e in 0..<(nk * dv) { v[flat: e] = Float(rng.below(81) - 40) * Float.leastNonzeroMagnitude }
            let (err, bound) = try Self.check(
                q: q, k: k, v: v, scale: testScales[seed % testScales.count],
                options: PolyOptions(family: family, degree: .epsilon(1e-4)))
            worst = max(worst, err / bound)
        }
        print("subnormal V \(family): worst error/bound \(worst)")
        // Rounding a subnormal output is the whole error here, and the bound is of that size.
        #expect(worst > 0.01, "the subnormal regime is never approached: \(worst)")
    }

    /// The bound is informative, not vacuous: in Float64 with B ≤ 1 it is
    /// within a few ε·max|V| (approximation part) plus tiny rounding.
    @Test func boundIsInformative() async throws {
        await propertyCheck(
            count: 300, input: Gen.int(in: 0...1_000_000), Gen.element(of: ExpFamily.allCases),
            Gen.double(in: 0.01...1), Gen.double(in: -10 ... -2)
        ) { seed, f, B, le in
            let eps = pow(10, le)
            let prob = Problem(seed: UInt64(seed), nq: 16, nk: 16, d: 3, dv: 2, bound: B)
            let (err, bound) = try Self.check(
                prob, as: Double.self, scale: .paper,
                options: PolyOptions(family: f!, degree: .epsilon(eps)))
            #expect(bound <= 2.0001 * eps / (1 - eps) + 1e-9)
            #expect(err <= bound)
        }
    }

    /// As B → 0 both the measured error and the bound go to 0.
    @Test func errorVanishesAsBVanishes() async throws {
        await propertyCheck(
            count: 200, input: Gen.int(in: 0...1_000_000), Gen.element(of: ExpFamily.allCases),
            Gen.double(in: 0...1e-5)
        ) { seed, f, B in
            let prob = Problem(seed: UInt64(seed), nq: 8, nk: 8, d: 3, dv: 2, bound: B)
            let (err, bound) = try Self.check(
                prob, as: Double.self, scale: .paper,
                options: PolyOptions(family: f!, degree: .epsilon(1e-6)))
            // ε = 1e-6 needs degree ≤ 1 here, and the certified error of that degree is O(R) = O(B²).
            #expect(err <= 1e-9)
            #expect(bound <= 1e-8)
        }
    }

    /// Shifted family: every D̃_i = Σ_j P̂(x_ij) is positive, for any B.
    @Test func shiftedDenominatorsPositive() async throws {
        await propertyCheck(
            count: 300, input: Gen.int(in: 0...1_000_000), Gen.double(in: 0...3),
            Gen.int(in: 0...12)
        ) { seed, B, g in
            let prob = Problem(seed: UInt64(seed), heads: 2, nq: 8, nk: 8, d: 3, dv: 2, bound: B)
            let res = try PolyAttention.compute(
                q: prob.q, k: prob.k, v: prob.v, scale: .paper,
                options: PolyOptions(family: .shifted, degree: .degree(g)))
            #expect(res.denominators.storage.allSatisfy { $0 > 0 })
            for h in res.heads { #expect(h.polynomial.coefficients.allSatisfy { $0 > 0 }) }
        }
    }

    /// The result does not depend on the thread count or the block size, and
    /// heads are independent (batched = one head at a time).
    @Test func deterministicAndBatched() async throws {
        await propertyCheck(count: 50, input: Gen.int(in: 0...1_000_000), Gen.int(in: 1...700)) { seed, n in
            let prob = Problem(seed: UInt64(seed), heads: 2, nq: n, nk: n, d: 3, dv: 2, bound: 1)
            let base = PolyOptions(degree: .epsilon(1e-8), threads: 1)
            let a = try PolyAttention.compute(q: prob.q, k: prob.k, v: prob.v, scale: .paper, options: base)
            var o2 = base
            o2.threads = 2
            let b = try PolyAttention.compute(q: prob.q, k: prob.k, v: prob.v, scale: .paper, options: o2)
            #expect(a.output == b.output)
            let one = try PolyAttention.compute(
                q: prob.q.head(1), k: prob.k.head(1), v: prob.v.head(1), scale: .paper,
                options: base)
            #expect(Array(a.output.storage[(n * 2)...]) == one.output.storage)
            var o3 = base
            o3.blockRows = 7
            let c = try PolyAttention.compute(q: prob.q, k: prob.k, v: prob.v, scale: .paper, options: o3)
            let bound = a.maxErrorBound + c.maxErrorBound
            #expect(ErrorMetrics.maxAbsDiff(a.output, c.output) <= bound)
        }
    }

    @Test func rejectsBadInput() throws {
        let prob = Problem(seed: UInt64(1), nq: 4, nk: 4, d: 2, dv: 2, bound: 1)
        var bad = prob.q
        bad[flat: 0] = .nan
        #expect(throws: AttnError.self) {
            try PolyAttention.compute(
                q: bad, k: prob.k, v: prob.v, scale: .paper, options: PolyOptions(degree: .degree(2)))
        }
        #expect(throws: AttnError.self) {
            // Scores beyond the stated radius.
            try PolyAttention.compute(
                q: prob.q, k: prob.k, v: prob.v, scale: .paper,
                options: PolyOptions(degree: .degree(2), radius: .fixed(1e-3)))
        }
        #expect(throws: AttnError.infeasible("degree 5000 exceeds the limit 2000")) {
            try PolyAttention.compute(
                q: prob.q, k: prob.k, v: prob.v, scale: .paper, options: PolyOptions(degree: .degree(5000)))
        }
    }
}
