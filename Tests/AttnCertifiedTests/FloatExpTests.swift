import AttnCertified
import AttnCore
import Foundation
import PropertyBased
import Testing

/// FloatExp against MPFR, and its constants against the proof (Proofs/float-certified-engine.md, §3).
@Suite("Float engine: exp with a proved bound")
struct FloatExpTests {
    /// |w − eˣ| / eˣ, evaluated at 160 bits.
    static func relativeError(_ x: Double, _ w: Double) -> Double {
        let e = MPFRFloat(precision: 160), xs = MPFRFloat(x, precision: 160)
        _ = e.exp(xs, rounding: .nearest)
        let diff = MPFRFloat(precision: 160)
        _ = diff.sub(MPFRFloat(w, precision: 160), e, rounding: .nearest)
        _ = diff.div(diff, e, rounding: .nearest)
        return abs(diff.double(rounding: .nearest))
    }

    /// Every path this machine runs (AVX-512, AVX2 with FMA, portable C without FMA).
    static let paths = FloatExp.Path.allCases.filter { $0.rawValue <= FloatExp.machinePath.rawValue }

    /// The largest relative error over `xs` of the scalar exp and of the vector lanes of `weights`
    /// (s = 1 and m = 0, so the lanes see x itself), on `path`.
    static func worst(_ xs: [Double], path: FloatExp.Path) -> Double {
        var lanes = xs
        _ = lanes.withUnsafeMutableBufferPointer { b in
            FloatExp.weights(b.baseAddress!, count: b.count, visible: b.count, scale: 1, max: 0, path: path)
        }
        var worst = 0.0
        for (x, w) in zip(xs, lanes) {
            worst = max(worst, Self.relativeError(x, FloatExp.exp(x, path: path)), Self.relativeError(x, w))
        }
        return worst
    }

    @Test(
        "relative error within the bound on [−700, 0] on every path: random points, reduction boundaries, tiny and extreme arguments"
    )
    func withinBound() async {
        let ln2 = 0.6931471805599453
        var xs: [Double] = [
            0, -0.0, -0x1p-1074, -1e-300, -1e-17, -0.34657359027997264, -0.3465735902799727, -700,
            -699.9999999999999, -1, -ln2, -2 * ln2, -1009 * ln2 / 1.44,
        ]
        for k in 1...1010 {
            for off in [-0.5, 0.5] { let x = (Double(k) + off) * -ln2; if x >= -700 { xs.append(x) } }
        }
        for path in Self.paths {
            let worst = Self.worst(xs, path: path)
            #expect(worst <= FloatExp.relativeErrorBound, "\(path)")
            #expect(worst < 4 * 0x1p-53, "\(path): observed \(worst / 0x1p-53) u: the implementation regressed")
            #expect(FloatExp.exp(0, path: path) == 1)
        }
        await propertyCheck(count: 250, input: Gen.double(in: -700...0)) { x in
            // Eight copies fill one AVX-512 vector; the ninth takes the scalar remainder loop.
            for path in Self.paths {
                let r = Self.worst([Double](repeating: x, count: 9), path: path)
                #expect(r <= FloatExp.relativeErrorBound, "x = \(x) on \(path): \(r)")
            }
        }
    }

    @Test("weights: the tail below −700 and masked keys get 0, and X̂ is the bulk's Σ ŵ·|x̂|")
    func weightsTailAndMask() {
        for path in Self.paths {
            var row: [Double] = [-1, -700, -700.0000000000001, -1e300, 0, -3, -2, -5, -9, 4, 5]
            let x = row.withUnsafeMutableBufferPointer { b in
                FloatExp.weights(b.baseAddress!, count: 11, visible: 9, scale: 1, max: 0, path: path)
            }
            #expect(row[2] == 0 && row[3] == 0 && row[9] == 0 && row[10] == 0 && row[4] == 1, "\(path): \(row)")
            let expected = [0, 1, 4, 5, 6, 7, 8].reduce(0.0) { s, j in
                s + row[j] * abs([-1, -700, 0, 0, 0, -3, -2, -5, -9][j])
            }
            #expect(abs(x - expected) <= 1e-14 * expected, "\(path)")
            #expect(FloatExp.rowMax([3, -1, 7, 2, 0, 0, 0, 0, 1, 6], count: 10, path: path) == 7)
            #expect(FloatExp.rowMax([1, 2, .infinity, 0, 0, 0, 0, 0, 0], count: 9, path: path).isNaN)
            #expect(FloatExp.rowMax([1, 2, 3, 0, 0, 0, 0, 0, .nan], count: 9, path: path).isNaN)
        }
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
        #expect(FloatExp.c1 == (FloatExp.c1 * 0x1p32).rounded() * 0x1p-32)  // 32 fractional bits: k·C1 exact
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
