import AttnCore
import AttnExperiments
import Foundation
import PropertyBased
import Testing

/// `ScoreMaximum`: the computed max |q_i·k_j| against the exact value, and its
/// error bound (Proofs/regime-score-maximum.md).
///
/// Exact reference: every entry is ±M·2⁻⁵³ with M < 2⁵⁴ (entries in [2⁻¹, 2)), so
/// every product is an integer multiple of 2⁻¹⁰⁶ below 2¹⁰⁸ of them, and a dot
/// product of up to 64 terms is exact in `Int128`.
@Suite struct ScoreMaximumTests {
    static func units(_ x: Double) -> Int128 { Int128(x * 0x1p53) }

    /// The exact max |q_i·k_j|, in units of 2⁻¹⁰⁶.
    static func exactMaximum(q: [Double], k: [Double], nq: Int, nk: Int, d: Int) -> Int128 {
        var best: Int128 = 0
        for i in 0..<nq {
            for j in 0..<nk {
                var s: Int128 = 0
                for c in 0..<d { s += units(q[i * d + c]) * units(k[j * d + c]) }
                best = max(best, Int128(s.magnitude))
            }
        }
        return best
    }

    /// |computed − exact| in units of 2⁻¹⁰⁶ (exact: the computed value is a multiple of 2⁻¹⁰⁶ here).
    static func error(_ m: ScoreMaximum, exact: Int128) -> Double {
        // Sums and FMAs of multiples of 2⁻¹⁰⁶ round to multiples of 2⁻¹⁰⁶ (their ulp is no finer, or they are exact).
        let computed = Int128(m.value * 0x1p106)
        #expect(Double(computed) == m.value * 0x1p106, "computed maximum not a multiple of 2⁻¹⁰⁶")
        return Double((computed - exact).magnitude) * 0x1p-106  // rounding of the conversion: ≤ u relative
    }

    static func compute(_ q: [Double], _ k: [Double], nq: Int, nk: Int, d: Int) -> ScoreMaximum {
        q.withUnsafeBufferPointer { qb in
            k.withUnsafeBufferPointer { kb in
                ScoreMaximum.compute(q: qb, k: kb, nq: nq, nk: nk, d: d)
            }
        }
    }

    /// A random entry ±[1/2, 2) with a full 53-bit significand.
    static func entry(_ g: inout Xoshiro256StarStar, signed: Bool = true) -> Double {
        let m = Double(g.next() >> 11) * 0x1p-53  // [0, 1)
        let x = (1 + m) * (g.next() & 1 == 0 ? 1 : 0.5)
        return !signed || g.next() & 1 == 0 ? x : -x
    }

    /// Sound on random heads, including many rows (several gemm blocks) and long dot products.
    @Test func boundHoldsOnRandomHeads() async {
        await propertyCheck(count: 30, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            var g = Xoshiro256StarStar(seed: UInt64(seed))
            let nq = 1 + g.below(600), nk = 1 + g.below(40), d = 1 + g.below(64)
            let q = (0..<nq * d).map { _ in Self.entry(&g) }, k = (0..<nk * d).map { _ in Self.entry(&g) }
            let m = Self.compute(q, k, nq: nq, nk: nk, d: d)
            let e = Self.error(m, exact: Self.exactMaximum(q: q, k: k, nq: nq, nk: nk, d: d))
            #expect(e <= m.errorBound, "nq \(nq) nk \(nk) d \(d): error \(e) > bound \(m.errorBound)")
        }
    }

    /// Tight: with d = 1 the product's rounding is the whole error, and we pick the pair of the
    /// worst rounding (≈ u relative) among many. The bound γ₁·N ≈ u·|qk| holds, and half of it does not:
    /// the test of the halving mutation (Proofs/regime-score-maximum.md).
    @Test func boundIsTightAndHalvingFails() {
        var g = Xoshiro256StarStar(seed: 20_261_201)
        var worst = (q: 1.0, k: 1.0, rel: 0.0)
        for _ in 0..<20000 {
            // Products just above a power of two make a half-ulp rounding ≈ u relative.
            let q = 1 + Double(g.next() >> 11) * 0x1p-60, k = 1 + Double(g.next() >> 11) * 0x1p-60
            let p = q * k, err = abs((-p).addingProduct(q, k))  // q·k − fl(q·k), exact (FMA)
            if err / p > worst.rel { worst = (q, k, err / p) }
        }
        let m = Self.compute([worst.q], [worst.k], nq: 1, nk: 1, d: 1)
        let e = Self.error(m, exact: Self.exactMaximum(q: [worst.q], k: [worst.k], nq: 1, nk: 1, d: 1))
        #expect(e <= m.errorBound)
        #expect(e > m.errorBound / 2, "error \(e) ≤ half the bound \(m.errorBound / 2): the bound is not tight here")
    }

    /// Exact zero scores (orthogonal rows) and all-zero input: value 0, bound ≥ 0.
    @Test func orthogonalAndZero() {
        let m = Self.compute([3, 0, 0, 5, 0, 0], [0, 0, 7, 0, 0, 1.5], nq: 2, nk: 2, d: 3)
        #expect(m.value == 0 && m.errorBound >= 0)
        #expect(m.normProduct >= 5 * 7 && m.normProduct <= 35 * (1 + 1e-13))
        let z = Self.compute([0, 0], [0, 0], nq: 1, nk: 1, d: 2)
        #expect(z.value == 0 && z.normProduct == 0)
    }

    /// The scaled maximum at the paper's scale 1/d against the exact m/d (positive entries, so
    /// m ≥ d/4 and v = fl(ŝ·m̃) ≥ 2⁻⁸ is a multiple of 2⁻¹⁰⁶).
    @Test func scaledBoundHolds() async {
        await propertyCheck(count: 20, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            var g = Xoshiro256StarStar(seed: UInt64(seed))
            let nq = 1 + g.below(20), nk = 1 + g.below(20), d = 1 + g.below(40)
            let q = (0..<nq * d).map { _ in Self.entry(&g, signed: false) }
            let k = (0..<nk * d).map { _ in Self.entry(&g, signed: false) }
            let m = Self.compute(q, k, nq: nq, nk: nk, d: d)
            let (v, b) = m.scaled(by: Scale.paper.value(d: d))
            // |v − m/d| ≤ b  ⇔  |d·v − m| ≤ d·b, compared in exact Int128 units of 2⁻¹⁰⁶.
            let exact = Self.exactMaximum(q: q, k: k, nq: nq, nk: nk, d: d)
            let dv = Int128(v * 0x1p106) * Int128(d)
            let diff = Double((dv - exact).magnitude) * 0x1p-106
            #expect(diff <= Double(d) * b, "d \(d): |d·v − m| = \(diff) > d·bound \(Double(d) * b)")
        }
    }
}
