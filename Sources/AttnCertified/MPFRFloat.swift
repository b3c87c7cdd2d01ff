import CGMP
import CMPFR

/// A rounding direction of MPFR (every MPFR operation is correctly rounded in
/// the direction asked for: the result is the representable number nearest
/// the exact real value on that side).
public enum Rounding: Sendable, CaseIterable {
    /// Toward −∞: the result is ≤ the exact value.
    case down
    /// Toward +∞: the result is ≥ the exact value.
    case up
    /// To nearest, ties to even.
    case nearest

    @inlinable var mpfr: mpfr_rnd_t {
        switch self {
        case .down: MPFR_RNDD
        case .up: MPFR_RNDU
        case .nearest: MPFR_RNDN
        }
    }

    /// The opposite direction (nearest stays nearest).
    public var opposite: Rounding {
        switch self {
        case .down: .up
        case .up: .down
        case .nearest: .nearest
        }
    }
}

/// One MPFR floating-point number (an `mpfr_t`), owned: `mpfr_init2` in
/// `init`, `mpfr_clear` in `deinit`. The C struct lives on the heap at a
/// fixed address and never leaves this class.
///
/// A mutable scratch register for hot loops: every `set…` and arithmetic
/// method rounds its exact result once, in the direction given, to this
/// object's precision. Not `Sendable`: give each thread its own.
///
/// MPFR's default exponent range (about ±2³⁰ binary orders) is used, so
/// exp(±10⁶) and 2^(±10⁶) are ordinary numbers here.
public final class MPFRFloat {
    @usableFromInline let raw: UnsafeMutablePointer<__mpfr_struct>

    /// A NaN of `precision` bits (MPFR's fresh value).
    ///
    /// - Precondition: `2 ≤ precision ≤ 2²⁰` (a sanity limit, not MPFR's).
    public init(precision: Int) {
        precondition(precision >= 2 && precision <= 1 << 20, "MPFR precision must be in 2...2^20 bits")
        raw = .allocate(capacity: 1)
        mpfr_init2(raw, mpfr_prec_t(precision))
    }

    /// `x` rounded in direction `rounding` to `precision` bits (exact when
    /// `precision ≥ 53`).
    public convenience init(_ x: Double, precision: Int, rounding: Rounding = .nearest) {
        self.init(precision: precision)
        set(x, rounding: rounding)
    }

    deinit {
        mpfr_clear(raw)
        raw.deallocate()
    }

    /// Bits of the significand.
    public var precision: Int { Int(mpfr_get_prec(raw)) }

    // MARK: Setting

    /// Sets to `x` rounded in `rounding`. Returns MPFR's ternary value:
    /// 0 if exact, > 0 if the stored value is above `x`, < 0 if below.
    @discardableResult @inlinable
    public func set(_ x: Double, rounding: Rounding) -> Int32 { mpfr_set_d(raw, x, rounding.mpfr) }

    /// Sets to the integer `x` rounded in `rounding` (exact when `precision ≥ 64`).
    @discardableResult @inlinable
    public func set(_ x: Int, rounding: Rounding) -> Int32 { mpfr_set_si(raw, x, rounding.mpfr) }

    /// Sets to `x·2^exponent` rounded in `rounding` (exact when `precision ≥ 64`).
    @discardableResult @inlinable
    public func set(_ x: Int, timesTwoTo exponent: Int, rounding: Rounding) -> Int32 {
        mpfr_set_si_2exp(raw, x, exponent, rounding.mpfr)
    }

    /// Sets to the GMP integer `z·2^exponent` rounded in `rounding`.
    @discardableResult @inlinable
    public func set(_ z: GMPInteger, timesTwoTo exponent: Int = 0, rounding: Rounding) -> Int32 {
        mpfr_set_z_2exp(raw, z.raw, exponent, rounding.mpfr)
    }

    /// Sets to the exact rational `q` rounded in `rounding`.
    @discardableResult @inlinable
    public func set(_ q: GMPRational, rounding: Rounding) -> Int32 { mpfr_set_q(raw, q.raw, rounding.mpfr) }

    /// Sets to `other` rounded in `rounding` (exact when this precision ≥ other's).
    @discardableResult @inlinable
    public func set(_ other: MPFRFloat, rounding: Rounding) -> Int32 { mpfr_set(raw, other.raw, rounding.mpfr) }

    // MARK: Arithmetic (result = op(…) rounded once in `rounding`)

    @discardableResult @inlinable
    public func add(_ a: MPFRFloat, _ b: MPFRFloat, rounding: Rounding) -> Int32 {
        mpfr_add(raw, a.raw, b.raw, rounding.mpfr)
    }
    @discardableResult @inlinable
    public func sub(_ a: MPFRFloat, _ b: MPFRFloat, rounding: Rounding) -> Int32 {
        mpfr_sub(raw, a.raw, b.raw, rounding.mpfr)
    }
    @discardableResult @inlinable
    public func mul(_ a: MPFRFloat, _ b: MPFRFloat, rounding: Rounding) -> Int32 {
        mpfr_mul(raw, a.raw, b.raw, rounding.mpfr)
    }
    /// a + n for a machine integer n.
    @discardableResult @inlinable
    public func add(_ a: MPFRFloat, _ n: Int, rounding: Rounding) -> Int32 {
        mpfr_add_si(raw, a.raw, n, rounding.mpfr)
    }
    /// a / b; division by zero gives ±∞ or NaN, as IEEE 754.
    @discardableResult @inlinable
    public func div(_ a: MPFRFloat, _ b: MPFRFloat, rounding: Rounding) -> Int32 {
        mpfr_div(raw, a.raw, b.raw, rounding.mpfr)
    }
    /// a / z for a GMP integer z.
    @discardableResult @inlinable
    public func div(_ a: MPFRFloat, _ z: GMPInteger, rounding: Rounding) -> Int32 {
        mpfr_div_z(raw, a.raw, z.raw, rounding.mpfr)
    }
    /// a · z for a GMP integer z.
    @discardableResult @inlinable
    public func mul(_ a: MPFRFloat, _ z: GMPInteger, rounding: Rounding) -> Int32 {
        mpfr_mul_z(raw, a.raw, z.raw, rounding.mpfr)
    }
    /// a · 2^k (exact unless it leaves the exponent range).
    @discardableResult @inlinable
    public func mulPowerOfTwo(_ a: MPFRFloat, _ k: Int, rounding: Rounding) -> Int32 {
        mpfr_mul_2si(raw, a.raw, k, rounding.mpfr)
    }
    /// exp(a), correctly rounded.
    @discardableResult @inlinable
    public func exp(_ a: MPFRFloat, rounding: Rounding) -> Int32 { mpfr_exp(raw, a.raw, rounding.mpfr) }
    /// log(a), correctly rounded (NaN for a < 0, −∞ for 0).
    @discardableResult @inlinable
    public func log(_ a: MPFRFloat, rounding: Rounding) -> Int32 { mpfr_log(raw, a.raw, rounding.mpfr) }
    /// tanh(a), correctly rounded (MPFR's `mpfr_tanh`; ±1 only in the direction of rounding).
    @discardableResult @inlinable
    public func tanh(_ a: MPFRFloat, rounding: Rounding) -> Int32 { mpfr_tanh(raw, a.raw, rounding.mpfr) }
    /// √a, correctly rounded (NaN for a < 0).
    @discardableResult @inlinable
    public func sqrt(_ a: MPFRFloat, rounding: Rounding) -> Int32 { mpfr_sqrt(raw, a.raw, rounding.mpfr) }
    /// 1/√a, correctly rounded.
    @discardableResult @inlinable
    public func reciprocalSqrt(_ a: MPFRFloat, rounding: Rounding) -> Int32 {
        mpfr_rec_sqrt(raw, a.raw, rounding.mpfr)
    }
    /// −a (exact when precisions agree).
    @discardableResult @inlinable
    public func neg(_ a: MPFRFloat, rounding: Rounding) -> Int32 { mpfr_neg(raw, a.raw, rounding.mpfr) }
    /// Replaces the value by the next representable number toward +∞ (exact step of one ulp).
    @inlinable public func nextUp() { mpfr_nextabove(raw) }
    /// Replaces the value by the next representable number toward −∞.
    @inlinable public func nextDown() { mpfr_nextbelow(raw) }

    // MARK: Reading

    /// The value rounded to a Double in `rounding` (±∞ on overflow, so a
    /// `.up` bound stays an upper bound).
    @inlinable public func double(rounding: Rounding) -> Double { mpfr_get_d(raw, rounding.mpfr) }

    /// floor (`.down`) or ceiling (`.up`) of the value, as a GMP integer.
    /// - Precondition: the value is finite.
    @inlinable public func integer(into z: GMPInteger, rounding: Rounding) {
        precondition(isFinite, "integer of a non-finite MPFR value")
        mpfr_get_z(z.raw, raw, rounding.mpfr)
    }

    public var isNaN: Bool { mpfr_nan_p(raw) != 0 }
    public var isFinite: Bool { mpfr_number_p(raw) != 0 }
    public var isZero: Bool { mpfr_zero_p(raw) != 0 }
    /// −1, 0 or +1 (0 also for NaN).
    public var sign: Int { isNaN ? 0 : Int(mpfr_sgn(raw).signum()) }

    /// Exact comparison: −1, 0, +1 (0 if either is NaN; check `isNaN` first).
    @inlinable public func compare(_ other: MPFRFloat) -> Int { Int(mpfr_cmp(raw, other.raw).signum()) }
    /// Exact comparison with an integer.
    @inlinable public func compare(_ n: Int) -> Int { Int(mpfr_cmp_si(raw, n).signum()) }
    /// Exact comparison with a double.
    @inlinable public func compare(_ x: Double) -> Int { Int(mpfr_cmp_d(raw, x).signum()) }

    /// Decimal text with `digits` significant digits, rounded in `rounding`
    /// (so `.down` text is a valid lower bound, `.up` an upper one).
    public func decimalString(digits: Int = 20, rounding: Rounding = .nearest) -> String {
        if isNaN { return "nan" }
        if !isFinite { return sign > 0 ? "inf" : "-inf" }
        if isZero { return "0" }
        var exp: mpfr_exp_t = 0
        guard let cstr = mpfr_get_str(nil, &exp, 10, max(2, digits), raw, rounding.mpfr) else { return "?" }
        defer { mpfr_free_str(cstr) }
        var mant = String(cString: cstr)
        let negative = mant.hasPrefix("-")
        if negative { mant.removeFirst() }
        let head = mant.prefix(1), tail = mant.dropFirst()
        return (negative ? "-" : "") + head + (tail.isEmpty ? "" : "." + tail) + "e" + String(exp - 1)
    }
}

/// MPFR keeps caches (constants, exp tables) per thread only when it was
/// built thread-safe; multi-threaded code asks here first.
public enum MPFRLibrary {
    /// True when MPFR was built with thread-local storage (so independent
    /// `MPFRFloat`s may be used on different threads at once).
    public static var isThreadSafe: Bool { mpfr_buildopt_tls_p() != 0 }
    /// The MPFR version string, e.g. "4.2.0".
    public static var version: String { String(cString: mpfr_get_version()) }
}
