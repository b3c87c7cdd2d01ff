import AttnCore
import AttnPoly
import Foundation
import PropertyBased
import Testing

/// The certified sup relative error of each family, checked against the
/// error evaluated pointwise, and the degree selection built on it.
struct CertifiedBoundTests {
    /// |fl(P̂(x)) − fl(eˣ)|/eˣ minus what Horner's and libm's rounding can account for,
    /// never above the certified bound of the stored polynomial.
    @Test func storedPolynomialWithinBound() async throws {
        await propertyCheck(
            count: 300, input: Gen.element(of: ExpFamily.allCases), Gen.double(in: 0...12),
            Gen.int(in: 0...40)
        ) { family, R, g in
            let p = try ExpPolynomial(family: family!, radius: R, degree: g)
            let u = 0x1p-53
            for i in 0...200 {
                let x = -R + 2 * R * Double(i) / 200
                let ex = exp(x)
                let measured = abs(p.evaluate(x) - ex) / ex
                // Horner: |fl − P̂(x)| ≤ γ_{2g+1}·P̄(|x|); libm exp: ≤ 1 ulp.
                let slack = (Double(2 * g + 2) * u * p.absoluteMajorant(at: abs(x)) + 2 * u * ex) / ex * 1.01
                #expect(
                    measured <= p.certifiedRelativeError + slack,
                    "\(family!) R=\(R) g=\(g) x=\(x): \(measured) > \(p.certifiedRelativeError)")
            }
        }
    }

    /// ExpPolynomial(…, epsilon:) certifies the polynomial it stores, coefficient rounding included, when
    /// that is possible; when it is not (R = 10, ε = 10⁻¹²) it says so rather than claiming ε.
    @Test func epsilonConstructorCertifiesTheStoredPolynomial() throws {
        for family in ExpFamily.allCases {
            for (R, eps) in [(0.5, 1e-12), (2.0, 1e-10), (4.0, 1e-8), (1.0, 1e-3)] {
                let p = try ExpPolynomial(family: family, radius: R, epsilon: eps)
                #expect(
                    p.certifiedRelativeError <= eps && p.meetsEpsilon(eps),
                    "\(family) R=\(R) ε=\(eps): \(p.certifiedRelativeError)")
                if p.degree > 0 {
                    let lower = try ExpPolynomial(family: family, radius: R, degree: p.degree - 1)
                    #expect(
                        lower.certifiedRelativeError > eps, "\(family) R=\(R): degree \(p.degree) is not the smallest")
                }
            }
            let far = try ExpPolynomial(family: family, radius: 10, epsilon: 1e-12)
            #expect(far.approximationBound <= 1e-12)
            #expect(!far.meetsEpsilon(1e-12), "\(family): e^R·Σδ_t·Rᵗ ≥ 5e-8 at R = 10 cannot meet 1e-12")
            #expect(far.certifiedRelativeError - far.approximationBound >= 1e-9)
        }
    }

    /// The shifted family's exact sup error is the Poisson tail at y = 2R:
    /// the certificate is above it and within its geometric factor.
    @Test func shiftedBoundIsPoissonTail() async throws {
        await propertyCheck(count: 300, input: Gen.double(in: 0.01...20), Gen.int(in: 0...80)) { R, g in
            // Tail Σ_{t>g} e^{−y} yᵗ/t!, summed in the log domain term by term.
            let y = 2 * R
            var tail = 0.0
            var logTerm = -y + Double(g + 1) * log(y) - lgamma(Double(g + 2))
            var t = g + 1
            while t < g + 2000 {
                tail += exp(logTerm)
                t += 1
                logTerm += log(y) - log(Double(t))
            }
            let bound = CertifiedExpBound.relativeError(.shifted, R: R, degree: g)
            #expect(bound >= min(1, tail) * (1 - 1e-12))
            if Double(g + 2) > y {
                #expect(bound <= tail / (1 - y / Double(g + 2)) * (1 + 1e-9) + 1e-300)
            }
        }
    }

    /// The interpolant passes through eˣ at the Chebyshev points (up to its
    /// coefficient enclosure and Horner's rounding), and its certificate is
    /// twice the truncation's.
    @Test func interpolantMatchesAtNodes() async throws {
        await propertyCheck(count: 200, input: Gen.double(in: 0.05...10), Gen.int(in: 0...30)) { R, g in
            let p = try ExpPolynomial(family: .interpolant, radius: R, degree: g)
            var rR = 0.0
            for t in 0...g { rR += p.coefficientErrors[t] * pow(R, Double(t)) }
            for j in 0...g {
                let x = R * cos(Double(2 * j + 1) * Double.pi / Double(2 * g + 2))
                let slack = rR * 1.01 + Double(2 * g + 4) * 0x1p-53 * p.absoluteMajorant(at: abs(x)) + 4e-16 * exp(x)
                #expect(abs(p.evaluate(x) - exp(x)) <= slack + 1e-300, "R=\(R) g=\(g) node \(j)")
            }
            let t = CertifiedExpBound.relativeError(.chebyshev, R: R, degree: g)
            let i = CertifiedExpBound.relativeError(.interpolant, R: R, degree: g)
            if t.isFinite && t > 1e-300 { #expect(abs(i / t - 2) <= 1e-9) }
        }
    }

    /// Larger R or smaller ε never lowers the certified degree.
    @Test func degreeMonotoneInRAndEpsilon() async throws {
        await propertyCheck(
            count: 400, input: Gen.element(of: ExpFamily.allCases), Gen.double(in: 0...60),
            Gen.double(in: 0...60), Gen.double(in: -14 ... -1), Gen.double(in: -14 ... -1)
        ) { f, r1, r2, l1, l2 in
            let (lo, hi) = (min(r1, r2), max(r1, r2))
            let (eBig, eSmall) = (pow(10, max(l1, l2)), pow(10, min(l1, l2)))
            let gLo = CertifiedExpBound.certifiedDegree(R: lo, epsilon: eBig, family: f!)!
            let gHi = CertifiedExpBound.certifiedDegree(R: hi, epsilon: eBig, family: f!)!
            #expect(gLo <= gHi)
            let gSmall = CertifiedExpBound.certifiedDegree(R: lo, epsilon: eSmall, family: f!)!
            #expect(gLo <= gSmall)
            // Minimality: the bound at g meets ε, at g − 1 it does not.
            #expect(CertifiedExpBound.relativeError(f!, R: lo, degree: gLo) <= eBig)
            if gLo > 0 { #expect(CertifiedExpBound.relativeError(f!, R: lo, degree: gLo - 1) > eBig) }
        }
    }

    /// As B → 0 the certified degree falls to 0 or 1.
    @Test func degreeFallsAsBVanishes() async throws {
        await propertyCheck(
            count: 300, input: Gen.element(of: ExpFamily.allCases), Gen.double(in: 0...1e-4),
            Gen.int(in: 1...16), Gen.double(in: -6 ... -1)
        ) { f, B, d, le in
            for scale in testScales {
                let R = ScoreRadius.fromEntryBound(B, d: d, scale: scale.value(d: d))
                let g = CertifiedExpBound.certifiedDegree(R: R, epsilon: pow(10, le), family: f!)!
                #expect(g <= 1, "B=\(B) d=\(d) scale=\(scale) R=\(R): degree \(g)")
            }
        }
    }

    /// Regression points: the degrees of the benchmark setting.
    @Test func knownDegrees() {
        #expect(CertifiedExpBound.certifiedDegree(R: 1, epsilon: 1e-6, family: .chebyshev) == 7)
        #expect(CertifiedExpBound.certifiedDegree(R: 1, epsilon: 1e-6, family: .taylor) == 9)
        #expect(CertifiedExpBound.certifiedDegree(R: 0, epsilon: 1e-12, family: .shifted) == 0)
        #expect(CertifiedExpBound.relativeError(.chebyshev, R: 0, degree: 0) == 0)
    }

    /// Large R (partial sums of I_k(R) beyond the double range): the degree is
    /// still minimal, and near 2R as the Bessel asymptotics e^R·I_g(R) ≈ e^{2R − g²/2R} say.
    @Test(arguments: [500.0, 2000, 10_000])
    func largeRadiusDegreeIsMinimal(R: Double) {
        let g = CertifiedExpBound.certifiedDegree(R: R, epsilon: 1e-6, family: .chebyshev)!
        #expect(CertifiedExpBound.relativeError(.chebyshev, R: R, degree: g) <= 1e-6)
        #expect(CertifiedExpBound.relativeError(.chebyshev, R: R, degree: g - 1) > 1e-6)
        #expect(Double(g) > 2 * R && Double(g) < 2.5 * R)
    }
}
