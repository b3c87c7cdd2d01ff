import AttnCertified
import AttnCore
import Foundation
import PropertyBased
import Testing

/// The float engine's score terms against MPFR (Proofs/float-certified-engine.md §7, Lemma S): the
/// per-key bound Δ̂ holds for every finite input, on every code path, and its rounding terms are
/// attained.
@Suite("Float engine: softcap, bias and ALiBi with a proved per-key bound")
struct FloatScoreTermsTests {
    /// Every path this machine runs.
    static let paths = FloatExp.Path.allCases.filter { $0.rawValue <= FloatExp.machinePath.rawValue }

    /// One key's inputs: ĝ, the exact a = ŝĝ + θ·(zq·‖k‖) (|θ| ≤ 1, within §4's bound), and the terms.
    struct Key: CustomStringConvertible {
        var g: Double, s: Double, theta: Double, zq: Double, kNorm: Double
        var cap: Double?, bias: Double?, slope: Double?, diag: Double
        var description: String {
            let terms = [cap.map { "cap \($0)" }, bias.map { "bias \($0)" }, slope.map { "slope \($0)" }]
            return "g \(g) s \(s) θ \(theta) zq \(zq) ‖k‖ \(kNorm) dist \(abs(diag)) "
                + terms.compactMap { $0 }.joined(separator: " ")
        }
    }

    /// (τ̂, Δ̂) from `FloatScoreTerms.scores` for the key at `lane` of a row of `count` equal keys (count 1:
    /// the scalar loop; 8: the vector loop), the ALiBi diagonal shifted so that this key has distance |diag|.
    static func evaluate(_ k: Key, path: FloatExp.Path, count: Int = 1, lane: Int = 0) -> (Double, Double) {
        var row = [Double](repeating: k.g, count: count), delta = [Double](repeating: 0, count: count)
        let r = FloatScoreTerms.Row(
            s: k.s, b: FloatScoreTerms.a, zq: k.zq, c0: 0x1p-1000, cap: k.cap, slope: k.slope,
            diag: k.diag + Double(lane))
        let bias = [k.bias ?? 0], norm = [Double](repeating: k.kNorm, count: count)
        bias.withUnsafeBufferPointer { bb in
            norm.withUnsafeBufferPointer { nb in
                FloatScoreTerms.scores(
                    &row, delta: &delta, mask: nil, count: count, r, bias: k.bias == nil ? nil : bb.baseAddress!,
                    biasStride: 0, kNorm: nb.baseAddress!, path: path)
            }
        }
        return (row[lane], delta[lane])
    }

    /// Both loops: the scalar one (one key) and lane 5 of the vector one.
    static let loops = [(count: 1, lane: 0), (count: 8, lane: 5)]

    /// |τ̂ − score| at 2400 bits (every double and every sum of a few doubles is exact there; tanh is MPFR's).
    static func error(_ k: Key, tau: Double) -> Double {
        let p = 2400
        let x = MPFRFloat(k.g, precision: p), t = MPFRFloat(precision: p)
        _ = x.mul(x, MPFRFloat(k.s, precision: p), rounding: .nearest)  // s·g exactly
        _ = t.mul(MPFRFloat(k.zq, precision: p), MPFRFloat(k.kNorm, precision: p), rounding: .nearest)
        _ = t.mul(t, MPFRFloat(k.theta, precision: p), rounding: .nearest)
        _ = x.add(x, t, rounding: .nearest)  // a
        if let c = k.cap {
            let cm = MPFRFloat(c, precision: p)
            _ = x.div(x, cm, rounding: .nearest)
            _ = x.tanh(x, rounding: .nearest)
            _ = x.mul(x, cm, rounding: .nearest)
        }
        if let b = k.bias { _ = x.add(x, MPFRFloat(b, precision: p), rounding: .nearest) }
        if let l = k.slope {
            _ = t.mul(MPFRFloat(l, precision: p), MPFRFloat(abs(k.diag), precision: p), rounding: .nearest)
            _ = x.sub(x, t, rounding: .nearest)
        }
        _ = x.sub(MPFRFloat(tau, precision: p), x, rounding: .nearest)
        return abs(x.double(rounding: .up))
    }

    static func check(_ k: Key) {
        for path in paths {
            for (count, lane) in loops {
                let (tau, delta) = evaluate(k, path: path, count: count, lane: lane)
                guard delta.isFinite else { continue }  // undecided: the row goes to GMP
                let e = error(k, tau: tau)
                #expect(e <= delta * (1 + 0x1p-40), "\(path) \(count): \(k): τ̂ \(tau), |τ̂ − score| \(e) > Δ̂ \(delta)")
            }
        }
    }

    /// 10^x for x uniform in the range, with a random sign.
    static func magnitude(_ g: inout Xoshiro256StarStar, _ lo: Double, _ hi: Double) -> Double {
        (g.next() % 2 == 0 ? 1 : -1) * Foundation.pow(10, g.uniform(lo, hi))
    }

    @Test(
        "Δ̂ bounds |τ̂ − score| on every path: huge scores under softcap, tiny c, steep ALiBi, subnormals, near-saturation"
    )
    func enclosesTheScore() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int.max)) { seed in
            var g = Xoshiro256StarStar(seed: UInt64(seed))
            let regime = seed % 6
            var k = Key(
                g: Self.magnitude(&g, -3, 3), s: [1, 0.125, 0x1p-600][Int(g.next() % 3)],
                theta: g.uniform(-1, 1), zq: Foundation.pow(10, g.uniform(-30, -10)), kNorm: g.uniform(0, 4),
                cap: nil, bias: nil, slope: nil, diag: Double(Int(g.next() % 4096)) - 2048)
            if k.s == 0x1p-600 { k.g *= 0x1p600 }
            switch regime {
            case 0: k.g = Self.magnitude(&g, 10, 300)  // huge scores
            case 1: k.g = Self.magnitude(&g, -320, -300)  // subnormal products
            case 2:  // at the saturation edge
                k.cap = Double(Float(g.uniform(1, 60))); k.g = k.cap! * 350 * g.uniform(0.99, 1.01)
            default: break
            }
            if g.next() % 4 != 0 { k.cap = k.cap ?? Self.magnitude(&g, -300, 300).magnitude }  // tiny to huge c
            if g.next() % 2 == 0 { k.bias = Self.magnitude(&g, -310, 5) }
            if g.next() % 2 == 0 { k.slope = Self.magnitude(&g, -8, g.next() % 3 == 0 ? 6 : 0) }  // steep ALiBi
            Self.check(k)
        }
    }

    @Test("regression inputs: saturated and unsaturated softcap, a score of 0, cancellation of bias and ALiBi")
    func cases() {
        let plain = Key(g: 0, s: 1, theta: 0, zq: 0, kNorm: 0, cap: nil, bias: nil, slope: nil, diag: 0)
        var cases: [Key] = []
        for (g, c) in [(1e300, 1e-300), (-1e300, 50), (17500, 50), (17600, 50), (1e-300, 1e-300), (0, 30), (0.5, 30)] {
            var k = plain; k.g = g; k.cap = c; k.zq = 1e-20; k.kNorm = 1; k.theta = -1; cases.append(k)
        }
        var k = plain; k.g = 1; k.bias = 1e6; k.slope = 1e6; k.diag = 1; cases.append(k)  // p̂ − λd cancels to 1
        k.cap = 2; cases.append(k)
        for k in cases { Self.check(k) }
        // Saturated: τ̂ is ±c exactly and Δ̂ is 2⁻¹⁰⁰⁰(1 + c).
        let (tau, delta) = Self.evaluate(cases[1], path: .portable)
        #expect(tau == -50 && delta <= 0x1p-1000 * 52)
    }

    @Test("the bias rounding term is attained: ĝ = 2⁻⁵³, bias 1 (a tie to even): |τ̂ − score| = u·|τ̂| ≥ 0.99·Δ̂")
    func biasRoundingIsAttained() {
        let k = Key(g: 0x1p-53, s: 1, theta: 0, zq: 0, kNorm: 0, cap: nil, bias: 1, slope: nil, diag: 0)
        for path in Self.paths {
            for (count, lane) in Self.loops {
                let (tau, delta) = Self.evaluate(k, path: path, count: count, lane: lane)
                let e = Self.error(k, tau: tau)
                #expect(tau == 1 && e == 0x1p-53, "\(path) \(count)")
                #expect(e <= delta * (1 + 0x1p-40) && e >= 0.99 * delta, "\(path) \(count): error \(e), Δ̂ \(delta)")
            }
        }
    }

    @Test("the ALiBi rounding term is attained: slope·3 = 1 + 2⁻⁵³ exactly, one rounding to −1: ≥ 0.99·Δ̂")
    func alibiRoundingIsAttained() {
        let slope = Double((1 << 53 + 1) / 3) * 0x1p-53  // (2⁵³ + 1)/3 is an integer below 2⁵³
        let k = Key(g: 0, s: 1, theta: 0, zq: 0, kNorm: 0, cap: nil, bias: nil, slope: slope, diag: 3)
        for path in Self.paths {
            for (count, lane) in Self.loops {
                let (tau, delta) = Self.evaluate(k, path: path, count: count, lane: lane)
                let e = Self.error(k, tau: tau)
                #expect(tau == -1 && e == 0x1p-53, "\(path) \(count)")
                #expect(e <= delta * (1 + 0x1p-40) && e >= 0.99 * delta, "\(path) \(count): error \(e), Δ̂ \(delta)")
            }
        }
    }

    @Test("tanh's constants are the proof's: γ₃/(1 − γ₃) and 2ε(1 + 3ε)/(1 − ε), rounded up")
    func constants() {
        let u = 0x1p-53, eps = FloatExp.relativeErrorBound
        let g3 = 3 * u / (1 - 3 * u)
        #expect(FloatScoreTerms.tanhRelative >= g3 / (1 - g3))
        #expect(FloatScoreTerms.tanhRelative <= g3 / (1 - g3) * (1 + 1e-12))
        let k2 = 2 * eps * (1 + 3 * eps) / (1 - eps)
        #expect(FloatScoreTerms.tanhAbsolute >= k2)
        #expect(FloatScoreTerms.tanhAbsolute <= k2 * (1 + 1e-12), "looser than the proof needs")
        #expect(FloatScoreTerms.a >= u / (1 - u) && FloatScoreTerms.a <= u / (1 - u) * (1 + 1e-12))
    }

    @Test("softcap's tanh: observed error against MPFR over [−400, 400]·c stays within the bound, far below it")
    func tanhObservedError() {
        var worst = 0.0
        for path in Self.paths {
            for i in 0...4000 {
                let z = Double(i - 2000) / 5 + 0.0137
                let k = Key(g: z * 3, s: 1, theta: 0, zq: 0, kNorm: 0, cap: 3, bias: nil, slope: nil, diag: 0)
                for (count, lane) in Self.loops {
                    let (tau, delta) = Self.evaluate(k, path: path, count: count, lane: lane)
                    let e = Self.error(k, tau: tau)
                    #expect(e <= delta * (1 + 0x1p-40), "\(path) z \(z)")
                    worst = max(worst, e / delta)
                }
            }
        }
        print("FloatScoreTerms softcap: worst |τ̂ − score|/Δ̂ = \(worst)")
    }
}
