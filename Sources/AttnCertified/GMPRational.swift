import CGMP

/// One exact GMP rational (an `mpq_t`) in canonical form (lowest terms,
/// positive denominator), owned: `__gmpq_init` / `__gmpq_clear`.
///
/// Immutable once constructed: every initializer builds the value and no
/// public method changes it, so it may be shared between threads.
public final class GMPRational: @unchecked Sendable {
    @usableFromInline let raw: UnsafeMutablePointer<__mpq_struct>

    /// The numerator and denominator inside the owned struct (fixed addresses).
    private var num: UnsafeMutablePointer<__mpz_struct> { raw.pointer(to: \._mp_num)! }
    private var den: UnsafeMutablePointer<__mpz_struct> { raw.pointer(to: \._mp_den)! }

    private init() {
        raw = .allocate(capacity: 1)
        __gmpq_init(raw)
    }

    deinit {
        __gmpq_clear(raw)
        raw.deallocate()
    }

    /// numerator / denominator, exactly.
    /// - Precondition: `denominator ≠ 0`.
    public convenience init(_ numerator: Int, _ denominator: Int = 1) {
        precondition(denominator != 0, "zero denominator")
        self.init()
        let sign = denominator < 0 ? -1 : 1
        __gmpz_set_si(num, numerator)
        if sign < 0 { __gmpz_neg(num, num) }
        __gmpz_set_ui(den, denominator.magnitude)
        __gmpq_canonicalize(raw)
    }

    /// The exact value of a finite double (every double is a dyadic rational).
    /// - Precondition: `x.isFinite`.
    public convenience init(_ x: Double) {
        precondition(x.isFinite, "GMPRational of a non-finite double")
        self.init()
        __gmpq_set_d(raw, x)
    }

    /// The exact value of a decimal string: optional sign, digits with at
    /// most one point, optional exponent (`"0.37"` is 37/100, `"-1.5e-3"` is
    /// −3/2000). No hex, no "inf"/"nan". Returns nil on anything else, or
    /// if the exponent's magnitude exceeds 100 000 (a sanity limit).
    public convenience init?(decimal text: String) {
        guard let parts = DecimalParts(text) else { return nil }
        self.init()
        let top = GMPInteger(), pow10 = GMPInteger()
        guard top.set(decimal: parts.digits) else { return nil }
        if parts.negative { top.negate() }
        pow10.power(10, UInt(parts.exponent.magnitude))
        if parts.exponent >= 0 {
            top.mul(top, pow10)
            __gmpz_set(num, top.raw)
            __gmpz_set_ui(den, 1)
        } else {
            __gmpz_set(num, top.raw)
            __gmpz_set(den, pow10.raw)
        }
        __gmpq_canonicalize(raw)
    }

    /// Copies the numerator into `z`.
    public func numerator(into z: GMPInteger) { __gmpz_set(z.raw, num) }
    /// Copies the (positive) denominator into `z`.
    public func denominator(into z: GMPInteger) { __gmpz_set(z.raw, den) }

    /// −1, 0 or +1.
    public var sign: Int { Int(num.pointee._mp_size.signum()) }
    /// Exact comparison: −1, 0, +1.
    public func compare(_ other: GMPRational) -> Int { Int(__gmpq_cmp(raw, other.raw).signum()) }
    /// Exact equality with a double.
    public func equals(_ x: Double) -> Bool { x.isFinite && compare(GMPRational(x)) == 0 }
    /// The value truncated toward zero to a double (GMP's mpq_get_d): for display only, not a bound.
    public var approximateDouble: Double { __gmpq_get_d(raw) }
}

/// A decimal literal split into an integer digit string and a power of ten.
struct DecimalParts {
    var negative: Bool
    var digits: String
    var exponent: Int

    init?(_ text: String) {
        var s = Substring(text.trimmingCharacters(in: " "))
        negative = false
        if let f = s.first, f == "+" || f == "-" { negative = f == "-"; s = s.dropFirst() }
        var mantissa = s, exp = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = s[..<e]
            var es = s[s.index(after: e)...]
            var eneg = false
            if let f = es.first, f == "+" || f == "-" { eneg = f == "-"; es = es.dropFirst() }
            guard !es.isEmpty, es.count <= 6, es.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(es) else {
                return nil
            }
            exp = eneg ? -v : v
        }
        let pieces = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = pieces[0], frac = pieces.count > 1 ? pieces[1] : ""
        guard !(whole.isEmpty && frac.isEmpty),
            (whole + frac).allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        digits = String(whole + frac)
        exponent = exp - frac.count
        guard exponent.magnitude <= 100_000 else { return nil }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}
