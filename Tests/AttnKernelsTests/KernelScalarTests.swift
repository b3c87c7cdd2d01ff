import AttnCertified
import AttnKernels
import CVectorMath
import Foundation
import Testing

/// `Double.expRelativeError` and the Float64 exp of the fused kernel (every ISA copy of
/// Sources/CVectorMath/fused_kernel.inc): its constants and the proved sum recomputed
/// (Proofs/online-softmax-error.md, "The Float64 exp"), and its error measured against MPFR.
@Suite("KernelScalar: the fused kernel's Float64 exp")
struct KernelScalarTests {
    static let u = 0x1p-53

    /// |w − eˣ| / eˣ, evaluated at 160 bits.
    static func relativeError(_ x: Double, _ w: Double) -> Double {
        let e = MPFRFloat(precision: 160)
        _ = e.exp(MPFRFloat(x, precision: 160), rounding: .nearest)
        let diff = MPFRFloat(precision: 160)
        _ = diff.sub(MPFRFloat(w, precision: 160), e, rounding: .nearest)
        _ = diff.div(diff, e, rounding: .nearest)
        return abs(diff.double(rounding: .nearest))
    }

    static func exp(_ xs: [Double], copy: KernelISA) -> [Double] {
        var x = xs
        _ = x.withUnsafeMutableBufferPointer { attnbound_fused_exp_f64(copy.rawValue, $0.baseAddress!, $0.count) }
        return x
    }

    /// The arguments where the error bound is tight: both ends of the reduced interval, r = ±ln2/2, for every
    /// k the kernel meets (x = −(k ± 1/2)·ln 2 and the doubles next to it), the underflow cut −708, tiny
    /// arguments, and 200 000 points spread over [−708, 0] by the golden ratio (deterministic).
    static let arguments: [Double] = {
        let ln2 = 0.6931471805599453
        var xs: [Double] = [-0.0, -0x1p-1074, -1e-300, -1e-17, -0x1p-53, -0x1p-30, -708, (-708.0).nextUp, -707.99]
        for k in 0...1021 {
            for half in [-0.5, 0.5] {
                var x = (Double(k) + half) * -ln2
                for _ in 0..<3 { if x <= 0, x >= -708 { xs.append(x) }; x = x.nextDown }
            }
        }
        for i in 0..<2000 { xs.append(-708 + Double(i) * 0x1p-14) }
        let phi = 0.6180339887498949
        for i in 1...200_000 {
            let f = (Double(i) * phi).truncatingRemainder(dividingBy: 1)
            xs.append(-708 * f)
        }
        return xs
    }()

    @Test(
        "the Float64 exp is within Double.expRelativeError on [−708, 0], near ±ln2/2 and the cut, in every ISA copy",
        arguments: KernelISA.allCases.dropFirst())
    func vectorExpDoubleUlps(copy: KernelISA) {
        let xs = Self.arguments
        let ws = Self.exp(xs, copy: copy)
        var worst = 0.0, at = 0.0
        for (x, w) in zip(xs, ws) {
            let r = Self.relativeError(x, w)
            if r > worst { (worst, at) = (r, x) }
        }
        print("Float64 exp, \(copy.resolved): worst \(worst / Self.u) u at x = \(at)")
        #expect(worst <= Double.expRelativeError, "\(copy): worst relative error \(worst) at x = \(at)")
        #expect(worst >= 0.5 * Self.u, "a suspiciously perfect exp: \(worst)")
        // Exact values the error bound relies on: exp(0) = 1 (the row max's weight); −∞ (masked) and
        // arguments below the cut give 0.
        let special = Self.exp([0, -0.0, -.infinity, -708, (-708.0).nextDown, -800, -1e300], copy: copy)
        #expect(special[0] == 1 && special[1] == 1 && special[2] == 0, "\(copy): \(special)")
        #expect(special[3].isNormal && special[4] == 0 && special[5] == 0 && special[6] == 0, "\(copy): \(special)")
    }

    @Test("the Float64 exp's constants are what the proof says, and η ≥ the proved sum (halving η fails here)")
    func float64ExpConstants() {
        let p = 256, u = Self.u
        func c(_ i: Int32) -> Double { attnbound_fused_exp_f64_constant(i) }
        let (invLn2, c1, c2, cut) = (c(0), c(1), c(2), c(3))
        let ln2 = MPFRFloat(precision: p)
        _ = ln2.log(MPFRFloat(2.0, precision: p), rounding: .nearest)
        // fl(1/ln 2) is the double nearest 1/ln 2.
        let inv = MPFRFloat(precision: p)
        _ = inv.div(MPFRFloat(1.0, precision: p), ln2, rounding: .nearest)
        #expect(invLn2 == inv.double(rounding: .nearest))
        // C1: 41 significant bits in [1/2, 1), so k·C1 is exact for |k| ≤ 1021 (51 bits).
        #expect(c1 >= 0.5 && c1 < 1 && c1 == (c1 * 0x1p41).rounded() * 0x1p-41)
        // C2 = RN(ln 2 − C1) with |C2| < 2⁻⁴², and C3 = ln 2 − C1 − C2 below 2⁻¹⁰¹.
        let rest = MPFRFloat(precision: p)
        _ = rest.sub(ln2, MPFRFloat(c1, precision: p), rounding: .nearest)
        #expect(c2 == rest.double(rounding: .nearest) && abs(c2) < 0x1p-42)
        _ = rest.sub(rest, MPFRFloat(c2, precision: p), rounding: .nearest)
        #expect(abs(rest.double(rounding: .nearest)) < 0x1p-101)
        // The cut keeps k ≥ −1021, so 2^k·p̂ (p̂ > 0.7) is normal and the scaling exact.
        #expect(cut == -708 && (cut * invLn2).rounded() == -1021 && 0.7 * 0x1p-1021 > 0x1p-1022)

        // c_m = RN(1/m!): m! < 2⁵³ is exact, so 1/m! in Double is that rounding.
        var factorial = 1.0
        var coefficients: [Double] = []
        for m in 0...13 {
            if m > 0 { factorial *= Double(m) }
            coefficients.append(c(Int32(100 + m)))
            #expect(coefficients[m] == 1 / factorial, "c_\(m)")
        }
        // The proved sum (Proofs/online-softmax-error.md, "The Float64 exp"), each step as written there.
        let rho = 0.3466  // ≥ |r̂| (ln2/2 + 2⁻⁴⁰ and the reduction error)
        func gamma(_ n: Int) -> Double { Double(n) * u / (1 - Double(n) * u) }
        // (a) Polynomial: Σ_{m≥3} |c_m − 1/m!|·ρ^m (exactly, with MPFR) + ρ¹⁴/14!·e^ρ (Lagrange).
        let coeffError = MPFRFloat(0.0, precision: p)
        var fact = 1
        for m in 1...13 {
            fact *= m
            guard m >= 3 else { continue }
            let exact = MPFRFloat(precision: p), term = MPFRFloat(precision: p)
            _ = exact.div(MPFRFloat(1.0, precision: p), MPFRFloat(Double(fact), precision: p), rounding: .nearest)
            _ = term.sub(MPFRFloat(coefficients[m], precision: p), exact, rounding: .nearest)
            _ = coeffError.add(
                coeffError, MPFRFloat(abs(term.double(rounding: .up)) * Foundation.pow(rho, Double(m)), precision: p),
                rounding: .up)
        }
        let eRho = Foundation.exp(rho) * (1 + 1e-15)
        let remainder = Foundation.pow(rho, 14) / (Double(fact) * 14) * eRho
        let a = (coeffError.double(rounding: .up) + remainder) * (1 + 1e-12)
        // (b) Horner for q(r) = Σ_{m=2}^{13} c_m r^{m−2}: term m passes 2m − 3 roundings (c₁₃: 22).
        var h = gamma(22) * coefficients[13] * Foundation.pow(rho, 11)
        var qMax = 0.0
        for m in 2...13 {
            if m <= 12 { h += gamma(2 * m - 3) * coefficients[m] * Foundation.pow(rho, Double(m - 2)) }
            qMax += coefficients[m] * Foundation.pow(rho, Double(m - 2))
        }
        h *= 1 + 1e-12
        qMax = (qMax + h) * (1 + 1e-12)
        // (c) r̂², the product with q̂, + r̂, + 1.
        let b = rho * rho * (1 + 1e-12) * (h + qMax * gamma(2))
        let tau = u * (eRho - 1 + (a + b) * eRho) + b * eRho
        let theta = u * (1 + a * eRho + tau) + tau + a * eRho
        // (d) Reduction: |r̂ − r*| ≤ u·(ρ + 1021·|C2|) + 1021·2⁻¹⁰¹·(1 + u).
        let reduction = u * (rho + 1021 * 0x1p-42) + 1021 * 0x1p-101 * (1 + u)
        let eta = Foundation.expm1(Foundation.log1p(theta) + reduction) * (1 + 1e-12)
        print("Float64 exp: proved η = \(eta / u) u (a = \(a / u) u, Horner \(h / u) u, θ = \(theta / u) u)")
        #expect(eta < 2.2 * u, "the proof's sum grew: \(eta / u) u")
        #expect(Double.expRelativeError >= eta, "η = \(Double.expRelativeError / u) u is below the proved \(eta / u) u")
        #expect(Double.expRelativeError <= 1.5 * eta, "η is looser than the proof needs")
    }
}
