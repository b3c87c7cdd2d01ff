import AttnCertified
import AttnCore
import Foundation
import PropertyBased
import Testing

/// The rounding-floor classification (`RoundingVerdict`) where it is hardest: at float16 and
/// bfloat16 midpoints (ties), in the subnormal range, and at exact zeros. Each certified answer
/// is checked against the definition on points sampled inside the enclosure.
@Suite struct RoundingFloorTests {
    static let formats = [StorageType.float16.format, StorageType.bfloat16.format]

    /// A value of `f` built from a significand index and an exponent (subnormals included).
    static func value(_ f: FloatFormat, significand m: Int, exponent e: Int) -> Double {
        let p = f.precision
        let e = max(e, f.minExponent)
        return scalbn(Double(m % (1 << p)), e - p + 1)  // m < 2^p: a subnormal-spaced or normal value
    }

    /// Sampled points of [lo, hi] (ends, middle, and a few in between).
    static func samples(_ lo: Double, _ hi: Double) -> [Double] {
        [lo, hi, lo + (hi - lo) / 2, lo + (hi - lo) / 3, lo.nextUp, hi.nextDown].filter { $0 >= lo && $0 <= hi }
    }

    /// Every certified "yes"/"no" holds at every sampled truth, and the floor encloses |RN(y) − y|.
    static func checkAgainstDefinition(_ c: Double, _ lo: Double, _ hi: Double, _ f: FloatFormat) {
        let r = RoundingVerdict(candidate: c, lo: lo, hi: hi, format: f)
        for y in samples(lo, hi) {
            let rn = f.roundToNearest(y)
            let cr = c == rn
            let faithful = c == f.roundDown(y) || c == f.roundUp(y)
            if r.correctlyRounded == .yes { #expect(cr, "c \(c) y \(y)") }
            if r.correctlyRounded == .no { #expect(!cr, "c \(c) y \(y)") }
            if r.faithful == .yes { #expect(faithful, "c \(c) y \(y)") }
            if r.faithful == .no { #expect(!faithful, "c \(c) y \(y)") }
            let floor = abs(rn - y)
            #expect(
                r.floorLower <= floor && floor <= r.floorUpper,
                "floor \(floor) y \(y) in [\(r.floorLower), \(r.floorUpper)]")
        }
    }

    @Test func tiesRoundToEvenAndAStraddleIsUndecided() async {
        await propertyCheck(
            input: Gen.int(in: 0...1), Gen.int(in: 0...4095), Gen.int(in: -140...15), Gen.int(in: 0...3)
        ) { which, m, e, widthPower in
            let f = Self.formats[which]
            let a = Self.value(f, significand: m, exponent: e), b = f.roundUp(a.nextUp)
            guard b.isFinite, b <= f.maxFinite else { return }
            let mid = (a + b) / 2  // the rounding boundary between neighbours a < b (exact in Double)
            let even = (a / f.ulp(at: a)).truncatingRemainder(dividingBy: 2) == 0 ? a : b
            let odd = even == a ? b : a
            // An exact tie: RN is the even neighbour; the odd one is faithful, not correctly rounded.
            #expect(RoundingVerdict(candidate: even, lo: mid, hi: mid, format: f).correctlyRounded == .yes)
            let t = RoundingVerdict(candidate: odd, lo: mid, hi: mid, format: f)
            #expect(t.correctlyRounded == .no && t.faithful == .yes)
            #expect(t.floorLower <= (b - a) / 2 && (b - a) / 2 <= t.floorUpper && t.floorLower > 0)
            // An enclosure across the boundary: neither neighbour is certifiably RN, both are faithful.
            let delta = scalbn(b - a, -(10 + 10 * widthPower))
            for c in [a, b] {
                let s = RoundingVerdict(candidate: c, lo: mid - delta, hi: mid + delta, format: f)
                #expect(s.correctlyRounded == .undecided && s.faithful == .yes)
                Self.checkAgainstDefinition(c, mid - delta, mid + delta, f)
            }
            // Just below the boundary: a is certifiably RN, b certifiably not.
            #expect(
                RoundingVerdict(candidate: a, lo: mid - 2 * delta, hi: mid - delta, format: f).correctlyRounded == .yes)
            #expect(
                RoundingVerdict(candidate: b, lo: mid - 2 * delta, hi: mid - delta, format: f).correctlyRounded == .no)
            for c in [a, b, f.roundUp(b.nextUp), f.roundDown(a.nextDown)] where c.isFinite {
                Self.checkAgainstDefinition(c, mid - 2 * delta, mid - delta, f)
                Self.checkAgainstDefinition(-c, -(mid - delta), -(mid - 2 * delta), f)
            }
        }
    }

    @Test func subnormalOutputsAndExactZeros() async {
        await propertyCheck(input: Gen.int(in: 0...1), Gen.int(in: 0...255), Gen.double(in: 0...1)) { which, m, frac in
            let f = Self.formats[which]
            let tiny = f.ulp(at: 0)  // the smallest subnormal
            let y = tiny * (Double(m) + frac)
            let lo = y, hi = y + tiny / 1024
            for c in [f.roundToNearest(y), f.roundDown(lo), f.roundUp(hi), 0, -0.0, tiny] {
                Self.checkAgainstDefinition(c, lo, hi, f)
            }
        }
        for f in Self.formats {
            let z = RoundingVerdict(candidate: 0, lo: 0, hi: 0, format: f)
            #expect(z.correctlyRounded == .yes && z.faithful == .yes && z.floorLower == 0 && z.floorUpper == 0)
            let nz = RoundingVerdict(candidate: -0.0, lo: 0, hi: 0, format: f)
            #expect(nz.correctlyRounded == .yes)
            let off = RoundingVerdict(candidate: f.ulp(at: 0), lo: 0, hi: 0, format: f)
            #expect(off.correctlyRounded == .no && off.faithful == .no)
            let around = RoundingVerdict(candidate: 0, lo: -f.ulp(at: 0) / 4, hi: f.ulp(at: 0) / 4, format: f)
            #expect(around.correctlyRounded == .yes && around.floorLower == 0)
        }
    }

    @Test func randomEnclosuresAgreeWithTheDefinition() async {
        await propertyCheck(
            input: Gen.int(in: 0...1), Gen.double(in: -4...4), Gen.int(in: 0...40), Gen.int(in: -3...3)
        ) { which, y, widthPower, step in
            let f = Self.formats[which]
            let lo = y, hi = y + scalbn(f.ulp(at: y), -widthPower)
            var c = f.roundToNearest(y)
            for _ in 0..<abs(step) { c = step > 0 ? f.roundUp(c.nextUp) : f.roundDown(c.nextDown) }
            Self.checkAgainstDefinition(c, lo, hi, f)
        }
    }

    @Test func nonFiniteEnclosureOrCandidateIsSafe() {
        let f = StorageType.float16.format
        let r = RoundingVerdict(candidate: 1, lo: -.infinity, hi: .infinity, format: f)
        #expect(r.correctlyRounded == .undecided && r.floorUpper == .infinity)
        #expect(RoundingVerdict(candidate: .nan, lo: 1, hi: 1, format: f).correctlyRounded == .no)
    }

    /// The floor ratio's interval: exact candidates give [0, 0]; a floor that may be 0 gives +∞ above.
    @Test func floorRatioInterval() {
        var t = AccuracyTally(format: StorageType.float16.format)
        #expect(t.floorRatio(maxErrorBound: 0) == (0, 0))
        t.floorLower = 0.25; t.floorUpper = 0.5; t.maxErrorLower = 0.5
        let r = t.floorRatio(maxErrorBound: 1)
        #expect(r.lo <= 1 && r.lo > 0.99 && r.hi >= 4 && r.hi < 4.01)
        t.floorLower = 0
        #expect(t.floorRatio(maxErrorBound: 1).hi == .infinity)
    }
}
