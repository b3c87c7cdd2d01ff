import CMPFR

/// A closed real interval [lo, hi] with MPFR endpoints of an explicit
/// precision (bits), and outward-rounded arithmetic.
///
/// **The guarantee** (inclusion property): if x ∈ a and y ∈ b then
/// x ∘ y ∈ a ∘ b for every operation ∘ below, and f(x) ∈ f(a) for every
/// function f below. Each result endpoint is computed by one correctly
/// rounded MPFR operation in the outward direction (lower end toward −∞,
/// upper end toward +∞), so it is sound and within one ulp of the exact
/// interval operation's endpoint. Proof: Proofs/certified-enclosure.md.
///
/// Results have the larger of the operands' precisions. Intervals are
/// immutable once constructed (hence `Sendable`); each owns two
/// `MPFRFloat`s. Non-finite endpoints only arise from division by an
/// interval containing 0, which gives the whole line (−∞, +∞).
///
/// Why a second interval type beside AttnPoly's `OutwardInterval`: this one has
/// MPFR endpoints of any precision and is the independent oracle the tests use
/// to recompute certified enclosures (it shares no code with `RowEnclosure`);
/// `OutwardInterval` has Double endpoints for the polynomial method's a-priori
/// bounds, where speed matters and 53 bits suffice. `package`: not library API.
package final class CertifiedInterval: @unchecked Sendable, CustomStringConvertible {
    /// Bits of each endpoint's significand.
    package let precision: Int
    let lo: MPFRFloat
    let hi: MPFRFloat

    /// Both endpoints uninitialised (NaN): callers fill them before publishing.
    private init(precision: Int) {
        self.precision = precision
        lo = MPFRFloat(precision: precision)
        hi = MPFRFloat(precision: precision)
    }

    // MARK: Exact construction (a point interval when representable)

    /// The point x: exact when `precision ≥ 53` (any finite double), else
    /// the tightest enclosure at `precision`.
    /// - Precondition: `x.isFinite`.
    package convenience init(_ x: Double, precision: Int) {
        precondition(x.isFinite, "CertifiedInterval of a non-finite double")
        self.init(precision: precision)
        lo.set(x, rounding: .down)
        hi.set(x, rounding: .up)
    }

    /// The point n: exact when `precision ≥ 64`, else the tightest enclosure.
    package convenience init(_ n: Int, precision: Int) {
        self.init(precision: precision)
        lo.set(n, rounding: .down)
        hi.set(n, rounding: .up)
    }

    /// The exact rational q, enclosed as tightly as `precision` allows
    /// (lo = q rounded down, hi = q rounded up; a point when q is representable).
    package convenience init(_ q: GMPRational, precision: Int) {
        self.init(precision: precision)
        lo.set(q, rounding: .down)
        hi.set(q, rounding: .up)
    }

    /// numerator/denominator as an exact rational, then enclosed at `precision`.
    /// - Precondition: `denominator ≠ 0`.
    package convenience init(numerator: Int, denominator: Int, precision: Int) {
        self.init(GMPRational(numerator, denominator), precision: precision)
    }

    /// The exact decimal `text` ("0.37" is 37/100, not the double nearest
    /// it), enclosed at `precision`. Nil if `text` is not a plain decimal
    /// (see `GMPRational(decimal:)`).
    package convenience init?(decimal text: String, precision: Int) {
        guard let q = GMPRational(decimal: text) else { return nil }
        self.init(q, precision: precision)
    }

    /// The hull of two doubles [lower, upper], each endpoint rounded outward
    /// to `precision` (exact when `precision ≥ 53`).
    /// - Precondition: `lower ≤ upper`, neither NaN.
    package convenience init(lower: Double, upper: Double, precision: Int) {
        precondition(!lower.isNaN && !upper.isNaN && lower <= upper, "CertifiedInterval: need lower ≤ upper")
        self.init(precision: precision)
        lo.set(lower, rounding: .down)
        hi.set(upper, rounding: .up)
    }

    /// [lower, upper] from MPFR endpoints, copied and rounded outward to
    /// `precision` (default: the larger endpoint precision).
    /// - Precondition: `lower ≤ upper`, neither NaN.
    package convenience init(lower: MPFRFloat, upper: MPFRFloat, precision: Int? = nil) {
        precondition(
            !lower.isNaN && !upper.isNaN && lower.compare(upper) <= 0,
            "CertifiedInterval: need lower ≤ upper")
        self.init(precision: precision ?? max(lower.precision, upper.precision))
        lo.set(lower, rounding: .down)
        hi.set(upper, rounding: .up)
    }

    /// An enclosure of π.
    package static func pi(precision: Int) -> CertifiedInterval {
        let r = CertifiedInterval(precision: precision)
        mpfr_const_pi(r.lo.raw, MPFR_RNDD)
        mpfr_const_pi(r.hi.raw, MPFR_RNDU)
        return r
    }

    /// An enclosure of ln 2.
    package static func ln2(precision: Int) -> CertifiedInterval {
        let r = CertifiedInterval(precision: precision)
        mpfr_const_log2(r.lo.raw, MPFR_RNDD)
        mpfr_const_log2(r.hi.raw, MPFR_RNDU)
        return r
    }

    /// The whole real line (−∞, +∞).
    package static func entire(precision: Int) -> CertifiedInterval {
        CertifiedInterval(lower: -.infinity, upper: .infinity, precision: precision)
    }

    // MARK: Arithmetic (outward rounded; see the type's guarantee)

    package static func + (a: CertifiedInterval, b: CertifiedInterval) -> CertifiedInterval {
        let r = CertifiedInterval(precision: max(a.precision, b.precision))
        r.lo.add(a.lo, b.lo, rounding: .down)
        r.hi.add(a.hi, b.hi, rounding: .up)
        return r.sanitised()
    }

    package static func - (a: CertifiedInterval, b: CertifiedInterval) -> CertifiedInterval {
        let r = CertifiedInterval(precision: max(a.precision, b.precision))
        r.lo.sub(a.lo, b.hi, rounding: .down)
        r.hi.sub(a.hi, b.lo, rounding: .up)
        return r.sanitised()
    }

    package static prefix func - (a: CertifiedInterval) -> CertifiedInterval {
        let r = CertifiedInterval(precision: a.precision)
        r.lo.neg(a.hi, rounding: .down)
        r.hi.neg(a.lo, rounding: .up)
        return r
    }

    /// The product: lower end = min of the four endpoint products rounded
    /// down, upper = max rounded up.
    package static func * (a: CertifiedInterval, b: CertifiedInterval) -> CertifiedInterval {
        let p = max(a.precision, b.precision)
        let r = CertifiedInterval(precision: p), t = MPFRFloat(precision: p)
        var first = true
        for (x, y) in [(a.lo, b.lo), (a.lo, b.hi), (a.hi, b.lo), (a.hi, b.hi)] {
            t.mul(x, y, rounding: .down)
            if first || t.compare(r.lo) < 0 { r.lo.set(t, rounding: .down) }
            t.mul(x, y, rounding: .up)
            if first || t.compare(r.hi) > 0 { r.hi.set(t, rounding: .up) }
            first = false
        }
        return r.sanitised()
    }

    /// The quotient; (−∞, +∞) when `b` contains 0.
    package static func / (a: CertifiedInterval, b: CertifiedInterval) -> CertifiedInterval {
        let p = max(a.precision, b.precision)
        if b.containsZero { return .entire(precision: p) }
        let r = CertifiedInterval(precision: p), t = MPFRFloat(precision: p)
        var first = true
        for (x, y) in [(a.lo, b.lo), (a.lo, b.hi), (a.hi, b.lo), (a.hi, b.hi)] {
            t.div(x, y, rounding: .down)
            if first || t.compare(r.lo) < 0 { r.lo.set(t, rounding: .down) }
            t.div(x, y, rounding: .up)
            if first || t.compare(r.hi) > 0 { r.hi.set(t, rounding: .up) }
            first = false
        }
        return r.sanitised()
    }

    /// exp, by monotonicity: [exp(lo)↓, exp(hi)↑]. Any magnitude: MPFR's
    /// exponent range holds exp(±10⁶).
    package func exp() -> CertifiedInterval {
        let r = CertifiedInterval(precision: precision)
        r.lo.exp(lo, rounding: .down)
        r.hi.exp(hi, rounding: .up)
        return r
    }

    /// log, by monotonicity; nil unless the interval lies in (0, ∞).
    package func log() -> CertifiedInterval? {
        guard lo.sign > 0 else { return nil }
        let r = CertifiedInterval(precision: precision)
        r.lo.log(lo, rounding: .down)
        r.hi.log(hi, rounding: .up)
        return r
    }

    /// √, by monotonicity; nil unless the interval lies in [0, ∞).
    package func sqrt() -> CertifiedInterval? {
        guard lo.sign >= 0 else { return nil }
        let r = CertifiedInterval(precision: precision)
        r.lo.sqrt(lo, rounding: .down)
        r.hi.sqrt(hi, rounding: .up)
        return r
    }

    /// {|x| : x ∈ self}.
    package func abs() -> CertifiedInterval {
        if lo.sign >= 0 { return self }
        if hi.sign <= 0 { return -self }
        let r = CertifiedInterval(precision: precision)
        r.lo.set(0, rounding: .down)
        if MPFRFloat.magnitudeGreater(lo, hi) {
            r.hi.neg(lo, rounding: .up)
        } else {
            r.hi.set(hi, rounding: .up)
        }
        return r
    }

    /// {xⁿ : x ∈ self} for n ≥ 0 (tight for even n over intervals containing 0).
    package func power(_ n: Int) -> CertifiedInterval {
        precondition(n >= 0, "power: negative exponent")
        if n == 0 { return CertifiedInterval(1, precision: precision) }
        let base = (n % 2 == 0) ? abs() : self
        let r = CertifiedInterval(precision: precision)
        mpfr_pow_ui(r.lo.raw, base.lo.raw, UInt(n), MPFR_RNDD)
        mpfr_pow_ui(r.hi.raw, base.hi.raw, UInt(n), MPFR_RNDU)
        return r
    }

    /// The smallest interval holding both.
    package func hull(_ other: CertifiedInterval) -> CertifiedInterval {
        let r = CertifiedInterval(precision: max(precision, other.precision))
        r.lo.set(lo.compare(other.lo) <= 0 ? lo : other.lo, rounding: .down)
        r.hi.set(hi.compare(other.hi) >= 0 ? hi : other.hi, rounding: .up)
        return r
    }

    /// The intersection, or nil when disjoint.
    package func intersection(_ other: CertifiedInterval) -> CertifiedInterval? {
        guard overlaps(other) else { return nil }
        let r = CertifiedInterval(precision: max(precision, other.precision))
        r.lo.set(lo.compare(other.lo) >= 0 ? lo : other.lo, rounding: .down)
        r.hi.set(hi.compare(other.hi) <= 0 ? hi : other.hi, rounding: .up)
        return r
    }

    // MARK: Reading (every Double is rounded outward, so it stays a valid bound)

    /// The lower end rounded down to a Double (−∞ if below Double's range).
    package var lower: Double { lo.double(rounding: .down) }
    /// The upper end rounded up to a Double (+∞ if above Double's range).
    package var upper: Double { hi.double(rounding: .up) }
    /// An upper bound on hi − lo, as a Double rounded up.
    package var width: Double {
        let t = MPFRFloat(precision: precision + 2)
        t.sub(hi, lo, rounding: .up)
        return t.double(rounding: .up)
    }
    /// An upper bound on max |x| over the interval.
    package var magnitude: Double { Swift.max(Swift.abs(lower), Swift.abs(upper)) }
    /// A copy of the lower endpoint (exact).
    package func lowerEndpoint() -> MPFRFloat {
        let t = MPFRFloat(precision: precision); t.set(lo, rounding: .down); return t
    }
    /// A copy of the upper endpoint (exact).
    package func upperEndpoint() -> MPFRFloat {
        let t = MPFRFloat(precision: precision); t.set(hi, rounding: .up); return t
    }

    /// True when lo = hi (the interval is one exactly known number).
    package var isPoint: Bool { lo.compare(hi) == 0 }
    package var containsZero: Bool { lo.sign <= 0 && hi.sign >= 0 }
    /// Exact test lo ≤ x ≤ hi.
    package func contains(_ x: Double) -> Bool { lo.compare(x) <= 0 && hi.compare(x) >= 0 }
    /// Exact test that `other` ⊆ self.
    package func contains(_ other: CertifiedInterval) -> Bool {
        lo.compare(other.lo) <= 0 && hi.compare(other.hi) >= 0
    }
    /// Exact test that the intervals share a point.
    package func overlaps(_ other: CertifiedInterval) -> Bool {
        lo.compare(other.hi) <= 0 && other.lo.compare(hi) <= 0
    }
    /// Certainly x < y for every x ∈ self, y ∈ other (hi < other.lo).
    package func isCertainlyLess(than other: CertifiedInterval) -> Bool { hi.compare(other.lo) < 0 }
    /// Certainly x < t for every x ∈ self.
    package func isCertainlyLess(than t: Double) -> Bool { hi.compare(t) < 0 }
    /// Certainly x > t for every x ∈ self.
    package func isCertainlyGreater(than t: Double) -> Bool { lo.compare(t) > 0 }

    /// "[lo, hi]" with 17 significant digits, rounded outward.
    package var description: String {
        "[\(lo.decimalString(digits: 17, rounding: .down)), \(hi.decimalString(digits: 17, rounding: .up))]"
    }

    /// A NaN endpoint (∞ − ∞, 0·∞) means nothing is known: widen to the line.
    private func sanitised() -> CertifiedInterval {
        if lo.isNaN || hi.isNaN { return .entire(precision: precision) }
        return self
    }
}

/// Mixed operations with exact scalars: the scalar becomes a point interval at
/// the interval's precision (exact for a Double when precision ≥ 53, for an Int
/// when ≥ 64; otherwise enclosed), then the interval operation applies.
extension CertifiedInterval {
    package static func + (a: CertifiedInterval, b: Double) -> CertifiedInterval {
        a + CertifiedInterval(b, precision: a.precision)
    }
    package static func + (a: Double, b: CertifiedInterval) -> CertifiedInterval {
        CertifiedInterval(a, precision: b.precision) + b
    }
    package static func - (a: CertifiedInterval, b: Double) -> CertifiedInterval {
        a - CertifiedInterval(b, precision: a.precision)
    }
    package static func - (a: Double, b: CertifiedInterval) -> CertifiedInterval {
        CertifiedInterval(a, precision: b.precision) - b
    }
    package static func * (a: CertifiedInterval, b: Double) -> CertifiedInterval {
        a * CertifiedInterval(b, precision: a.precision)
    }
    package static func * (a: Double, b: CertifiedInterval) -> CertifiedInterval {
        CertifiedInterval(a, precision: b.precision) * b
    }
    package static func / (a: CertifiedInterval, b: Double) -> CertifiedInterval {
        a / CertifiedInterval(b, precision: a.precision)
    }
    package static func / (a: Double, b: CertifiedInterval) -> CertifiedInterval {
        CertifiedInterval(a, precision: b.precision) / b
    }
    package static func + (a: CertifiedInterval, b: Int) -> CertifiedInterval {
        a + CertifiedInterval(b, precision: a.precision)
    }
    package static func - (a: CertifiedInterval, b: Int) -> CertifiedInterval {
        a - CertifiedInterval(b, precision: a.precision)
    }
    package static func * (a: CertifiedInterval, b: Int) -> CertifiedInterval {
        a * CertifiedInterval(b, precision: a.precision)
    }
    package static func / (a: CertifiedInterval, b: Int) -> CertifiedInterval {
        a / CertifiedInterval(b, precision: a.precision)
    }
}

extension MPFRFloat {
    /// |a| > |b|, exactly.
    static func magnitudeGreater(_ a: MPFRFloat, _ b: MPFRFloat) -> Bool { mpfr_cmpabs(a.raw, b.raw) > 0 }
}
