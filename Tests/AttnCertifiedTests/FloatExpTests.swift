import AttnCertified
import AttnCore
import PropertyBased
import Testing

/// FloatExp against MPFR, and its constants against the proof (Proofs/float-certified-engine.md, §3).
@Suite("Float engine: exp with a proved bound")
struct FloatExpTests {
    /// |FloatExp.exp(x) − eˣ| / eˣ, evaluated at 160 bits.
    static func relativeError(_ x: Double) -> Double {
        let e = MPFRFloat(precision: 160), xs = MPFRFloat(x, precision: 160)
        _ = e.exp(xs, rounding: .nearest)
        let w = MPFRFloat(FloatExp.exp(x), precision: 160)
        let diff = MPFRFloat(precision: 160)
        _ = diff.sub(w, e, rounding: .nearest)
        _ = diff.div(diff, e, rounding: .nearest)
        return abs(diff.double(rounding: .nearest))
    }

    @Test("relative error within the bound on [−700, 0]: random points, reduction boundaries, tiny and extreme arguments")
    func withinBound() async {
        var worst = 0.0
        let ln2 = 0.6931471805599453
        var xs: [Double] = [0, -0.0, -0x1p-1074, -1e-300, -1e-17, -0.34657359027997264, -0.3465735902799727, -700,
                            -699.9999999999999, -1, -ln2, -2 * ln2, -1009 * ln2 / 1.44]
        for k in 1...1010 { for off in [-0.5, 0.5] { let x = (Double(k) + off) * -ln2; if x >= -700 { xs.append(x) } } }
        for x in xs { worst = max(worst, Self.relativeError(x)) }
        await propertyCheck(count: 2000, input: Gen.double(in: -700...0)) { x in
            let r = Self.relativeError(x)
            #expect(r <= FloatExp.relativeErrorBound, "x = \(x): \(r)")
        }
        #expect(worst <= FloatExp.relativeErrorBound)
        #expect(worst < 4 * 0x1p-53, "observed \(worst / 0x1p-53) u: the implementation regressed")
        #expect(FloatExp.exp(0) == 1)
    }

    @Test("the constants hold what the proof says: ln2 split, coefficients, and ε ≥ the proved sum")
    func constants() {
        let p = 256
        let ln2 = MPFRFloat(precision: p), one = MPFRFloat(1.0, precision: p)
        _ = ln2.log(MPFRFloat(2.0, precision: p), rounding: .nearest)
        let c3 = MPFRFloat(precision: p)
        _ = c3.sub(ln2, MPFRFloat(FloatExp.c1, precision: p), rounding: .nearest)
        _ = c3.sub(c3, MPFRFloat(FloatExp.c2, precision: p), rounding: .nearest)
        #expect(abs(c3.double(rounding: .nearest)) < 0x1p-85)
        #expect(FloatExp.c1 == (FloatExp.c1 * 0x1p32).rounded() * 0x1p-32)     // 32 fractional bits: k·C1 exact
        for (k, c) in FloatExp.coefficients.enumerated() {
            var f = 1.0; for i in stride(from: 1, through: k, by: 1) { f *= Double(i) }
            #expect(c == 1 / f)
        }
        _ = one
        // ε ≥ (Taylor remainder + coefficient error + Horner γ₂₆·e^ρ)/e^{−ρ} composed with the reduction error e^{0.75u}.
        let u = 0x1p-53, rho = 0.35
        var fact14 = 1.0; for i in 1...14 { fact14 *= Double(i) }
        let taylor = Foundation.pow(rho, 14) / fact14 * Foundation.exp(rho)
        let coeff = u * (Foundation.exp(rho) - 1 - rho - rho * rho / 2)
        let horner = 26 * u / (1 - 26 * u) * Foundation.exp(rho) * (1 + u)
        let theta = (taylor + coeff + horner) / Foundation.exp(-rho)
        let eps = (1 + theta) * Foundation.exp(0.75 * u) - 1
        #expect(FloatExp.relativeErrorBound >= eps * (1 + 1e-6))
        #expect(FloatExp.relativeErrorBound <= 1.05 * eps, "the bound is looser than the proof needs")
    }
}
import Foundation
