import CGMP

/// One GMP integer (an `mpz_t`), owned: `__gmpz_init` in `init`,
/// `__gmpz_clear` in `deinit`. Arbitrary size, every operation exact.
///
/// A mutable register for hot loops (accumulate in place, no allocation once
/// the limbs have grown). Not `Sendable`: give each thread its own.
public final class GMPInteger {
    @usableFromInline let raw: UnsafeMutablePointer<__mpz_struct>

    /// Zero.
    public init() {
        raw = .allocate(capacity: 1)
        __gmpz_init(raw)
    }

    public convenience init(_ x: Int) {
        self.init()
        set(x)
    }

    deinit {
        __gmpz_clear(raw)
        raw.deallocate()
    }

    @inlinable public func set(_ x: Int) { __gmpz_set_si(raw, x) }
    @inlinable public func set(_ other: GMPInteger) { __gmpz_set(raw, other.raw) }

    /// Sets to the exact value of a signed 128-bit integer.
    public func set(_ x: Int128) {
        let m = x.magnitude
        __gmpz_set_ui(raw, UInt(truncatingIfNeeded: m >> 64))
        __gmpz_mul_2exp(raw, raw, 64)
        __gmpz_add_ui(raw, raw, UInt(truncatingIfNeeded: m))
        if x < 0 { __gmpz_neg(raw, raw) }
    }

    /// Parses a decimal integer (optional sign). Returns false on bad text.
    public func set(decimal text: String) -> Bool {
        __gmpz_set_str(raw, text, 10) == 0
    }

    // MARK: Exact arithmetic (self = …)

    @inlinable public func add(_ a: GMPInteger, _ b: GMPInteger) { __gmpz_add(raw, a.raw, b.raw) }
    @inlinable public func sub(_ a: GMPInteger, _ b: GMPInteger) { __gmpz_sub(raw, a.raw, b.raw) }
    @inlinable public func mul(_ a: GMPInteger, _ b: GMPInteger) { __gmpz_mul(raw, a.raw, b.raw) }
    @inlinable public func mul(_ a: GMPInteger, _ b: Int) { __gmpz_mul_si(raw, a.raw, b) }
    /// self += a·b.
    @inlinable public func addProduct(_ a: GMPInteger, _ b: GMPInteger) { __gmpz_addmul(raw, a.raw, b.raw) }
    /// self += a·b for a machine integer b (any sign).
    @inlinable public func addProduct(_ a: GMPInteger, _ b: Int) {
        if b >= 0 { __gmpz_addmul_ui(raw, a.raw, UInt(b)) } else { __gmpz_submul_ui(raw, a.raw, b.magnitude) }
    }
    /// self += b for a machine integer b.
    @inlinable public func add(_ b: Int) {
        if b >= 0 { __gmpz_add_ui(raw, raw, UInt(b)) } else { __gmpz_sub_ui(raw, raw, b.magnitude) }
    }
    /// self = a·2^k (k ≥ 0).
    @inlinable public func shiftLeft(_ a: GMPInteger, by k: Int) {
        precondition(k >= 0)
        __gmpz_mul_2exp(raw, a.raw, mp_bitcnt_t(k))
    }
    /// self = a^k for machine integers.
    @inlinable public func power(_ a: UInt, _ k: UInt) { __gmpz_ui_pow_ui(raw, a, k) }
    @inlinable public func negate() { __gmpz_neg(raw, raw) }

    /// Sets to the non-negative integer whose little-endian 64-bit limbs are `limbs[0..<count]`.
    func setLimbs(_ limbs: UnsafePointer<UInt>, count: Int) {
        var n = count
        while n > 0 && limbs[n - 1] == 0 { n -= 1 }
        let dst = __gmpz_limbs_write(raw, max(n, 1))!
        for i in 0..<n { dst[i] = limbs[i] }
        __gmpz_limbs_finish(raw, n)
    }

    /// Copies the limbs of |self| into `limbs[0..<count]`, zero-padded.
    /// Returns false (leaving `limbs` unspecified) if |self| needs more than `count` limbs.
    func copyMagnitudeLimbs(into limbs: UnsafeMutablePointer<UInt>, count: Int) -> Bool {
        let n = Int(raw.pointee._mp_size.magnitude)
        guard n <= count else { return false }
        if n > 0 {
            let src = __gmpz_limbs_read(raw)!
            for i in 0..<n { limbs[i] = src[i] }
        }
        for i in n..<count { limbs[i] = 0 }
        return true
    }

    // MARK: Reading

    /// −1, 0 or +1.
    @inlinable public var sign: Int { Int(raw.pointee._mp_size.signum()) }
    /// Exact comparison: −1, 0, +1.
    @inlinable public func compare(_ other: GMPInteger) -> Int { Int(__gmpz_cmp(raw, other.raw).signum()) }
    /// Bits of |self| (0 for zero).
    public var bitWidth: Int { sign == 0 ? 0 : Int(__gmpz_sizeinbase(raw, 2)) }
    /// True when self = 2^k for some k ≥ 0.
    public var isPowerOfTwo: Bool { sign > 0 && __gmpz_popcount(raw) == 1 }
    /// The value if it fits in an `Int`.
    public var intValue: Int? { __gmpz_fits_slong_p(raw) != 0 ? __gmpz_get_si(raw) : nil }
    public var decimalString: String {
        guard let c = __gmpz_get_str(nil, 10, raw) else { return "?" }
        defer { free(c) }
        return String(cString: c)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
