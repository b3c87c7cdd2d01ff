import AttnCertified
import PropertyBased
import Testing

/// The interval layer: inclusion, exact construction, outward rounding.
@Suite struct CertifiedIntervalTests {
    static let finite = Gen.double(in: -1e6...1e6)

    /// At 53 bits an endpoint is the double rounded down/up, so IEEE's
    /// correctly rounded result (one of the two) lies inside.
    @Test func doubleArithmeticLiesInThe53BitEnclosure() async {
        await propertyCheck(count: 300, input: zip(Self.finite, Self.finite)) { x, y in
            let a = CertifiedInterval(x, precision: 53), b = CertifiedInterval(y, precision: 53)
            #expect((a + b).contains(x + y))
            #expect((a - b).contains(x - y))
            #expect((a * b).contains(x * y))
            if y != 0 { #expect((a / b).contains(x / y)) }
            if x >= 0 { #expect(a.sqrt()!.contains(x.squareRoot())) }
        }
    }

    /// Two precisions enclose the same real number: they overlap, and the
    /// higher one is no wider.
    @Test func precisionsOverlapAndHigherIsNarrower() async {
        await propertyCheck(count: 200, input: zip(Self.finite, Gen.double(in: 0.001...50))) { x, y in
            func f(_ p: Int) -> CertifiedInterval {
                let a = CertifiedInterval(x, precision: p), b = CertifiedInterval(y, precision: p)
                return ((a * b - b) / b + (-b).exp()).abs()
            }
            let low = f(64), high = f(256)
            #expect(low.overlaps(high))
            #expect(high.width <= low.width)
        }
    }

    /// exp(a)·exp(b) and exp(a + b) enclose the same number; log inverts exp.
    @Test func expIdentities() async {
        await propertyCheck(count: 200, input: zip(Gen.double(in: -700...700), Gen.double(in: -700...700))) { x, y in
            let a = CertifiedInterval(x, precision: 128), b = CertifiedInterval(y, precision: 128)
            #expect((a.exp() * b.exp()).overlaps((a + b).exp()))
            #expect(a.exp().log()!.contains(x))
        }
    }

    /// Scores of ±10⁶ are ordinary inside MPFR: exp(−10⁶)·exp(10⁶) encloses 1.
    @Test func hugeArgumentsStayTight() {
        let big = CertifiedInterval(1_000_000, precision: 256)
        let one = big.exp() * (-big).exp()
        #expect(one.contains(1))
        #expect(one.width < 0x1p-250)
        // Beyond Double's range: the lower bound rounds down to the largest double, the upper to +∞.
        #expect(big.exp().lower == .greatestFiniteMagnitude && big.exp().upper == .infinity)
    }

    /// Decimals are exact rationals: "0.37" is 37/100, which is not the double 0.37.
    @Test func decimalIsExact() {
        let d = CertifiedInterval(decimal: "0.37", precision: 300)!
        let q = CertifiedInterval(numerator: 37, denominator: 100, precision: 300)
        #expect(d.contains(q) && q.contains(d))
        #expect(!d.contains(0.37))
        #expect(d.width < 0x1p-298)
        #expect(
            CertifiedInterval(decimal: "1.5e-3", precision: 64)!.contains(
                CertifiedInterval(numerator: 3, denominator: 2000, precision: 64)))
        #expect(CertifiedInterval(decimal: "0x1p3", precision: 64) == nil)
        #expect(CertifiedInterval(decimal: "nan", precision: 64) == nil)
        #expect(CertifiedInterval(decimal: "2.50", precision: 64)!.isPoint)
    }

    /// Doubles and small integers are points at 64 bits; a binary fraction is a point, 1/3 is not.
    @Test func exactConstructionGivesPoints() async {
        await propertyCheck(count: 100, input: Self.finite) { x in
            let a = CertifiedInterval(x, precision: 64)
            #expect(a.isPoint && a.lower == x && a.upper == x)
        }
        #expect(CertifiedInterval(numerator: 3, denominator: 8, precision: 64).isPoint)
        #expect(!CertifiedInterval(numerator: 1, denominator: 3, precision: 64).isPoint)
        #expect(CertifiedInterval(Int.max, precision: 64).isPoint)
    }

    /// Mixed scalar operations equal the interval operations on point intervals;
    /// Horner evaluation of a Taylor polynomial of exp on [−1/2, 1/2] is within
    /// its remainder of exp (the poly helper's use case).
    @Test func mixedScalarOperationsAndTaylorEnclosure() async {
        await propertyCheck(count: 100, input: zip(Gen.double(in: -0.5...0.5), Gen.double(in: -10...10))) { x, y in
            let a = CertifiedInterval(x, precision: 128), b = CertifiedInterval(y, precision: 128)
            #expect((a * y).contains(b * x) && (b * x).contains(a * y))
            #expect((a + 3).contains(CertifiedInterval(3, precision: 128) + a))
            var p = CertifiedInterval(1, precision: 128)
            for k in stride(from: 20, through: 1, by: -1) { p = 1 + a * p / k }  // Σ_{k≤20} x^k/k!
            let remainder = CertifiedInterval(lower: -1e-25, upper: 1e-25, precision: 128)
            #expect((p + remainder).overlaps(a.exp()))
            #expect((p - a.exp()).magnitude < 1e-25)
        }
    }

    /// Division by an interval containing 0 knows nothing; even powers are non-negative.
    @Test func edgeCases() {
        let a = CertifiedInterval(lower: -1, upper: 2, precision: 64)
        let q = CertifiedInterval(1, precision: 64) / a
        #expect(q.lower == -.infinity && q.upper == .infinity)
        let sq = a.power(2)
        #expect(sq.lower == 0 && sq.upper == 4)
        #expect(a.abs().lower == 0 && a.abs().upper == 2)
        #expect(a.log() == nil && a.sqrt() == nil)
        #expect(CertifiedInterval.pi(precision: 100).contains(Double.pi) == false)  // π is irrational
        #expect(CertifiedInterval.pi(precision: 100).width < 1e-29)
    }
}
