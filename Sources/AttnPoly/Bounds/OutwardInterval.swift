import Foundation

/// A closed interval [lo, hi] of doubles that contains a real number, with
/// every operation rounded outward.
///
/// Soundness: IEEE 754 +, −, ×, ÷ and √ are correctly rounded to nearest, so
/// the exact result lies in [r.nextDown, r.nextUp] around the rounded `r`; we
/// widen by one ulp on each side after every operation. `exp` and `log` come
/// from `CertifiedElementary` (MPFR, directed rounding).
///
/// This is the small working type of the degree certificates
/// (`CertifiedExpBound`); it only ever holds moderate magnitudes, because
/// the certificates work in the log domain.
public struct OutwardInterval: Sendable, Equatable, CustomStringConvertible {
    public let lo: Double
    public let hi: Double

    /// - Precondition: lo ≤ hi, neither NaN.
    public init(_ lo: Double, _ hi: Double) {
        precondition(!lo.isNaN && !hi.isNaN && lo <= hi, "bad interval [\(lo), \(hi)]")
        self.lo = lo
        self.hi = hi
    }

    /// The point interval of an exactly representable double.
    public init(exactly x: Double) { self.init(x, x) }

    /// The point interval of an integer, exact when |n| ≤ 2⁵³.
    public init(_ n: Int) {
        let x = Double(n)
        self.init(Double(exactly: n) != nil ? x : x.nextDown, Double(exactly: n) != nil ? x : x.nextUp)
    }

    public var description: String { "[\(lo), \(hi)]" }

    /// Widens a rounded result by one ulp each side. A NaN endpoint (∞ − ∞,
    /// 0·∞ after overflow) becomes the infinite one, so an enclosure that
    /// left the double range is [−∞, ∞] rather than a crash.
    @inline(__always) static func out(_ a: Double, _ b: Double) -> OutwardInterval {
        OutwardInterval(a.isNaN ? -.infinity : a.nextDown, b.isNaN ? .infinity : b.nextUp)
    }

    /// True when both endpoints are finite.
    public var isFinite: Bool { lo.isFinite && hi.isFinite }

    public static func + (a: OutwardInterval, b: OutwardInterval) -> OutwardInterval {
        out(a.lo + b.lo, a.hi + b.hi)
    }

    public static func - (a: OutwardInterval, b: OutwardInterval) -> OutwardInterval {
        out(a.lo - b.hi, a.hi - b.lo)
    }

    public static func * (a: OutwardInterval, b: OutwardInterval) -> OutwardInterval {
        let (p0, p1, p2, p3) = (a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi)
        if p0.isNaN || p1.isNaN || p2.isNaN || p3.isNaN { return OutwardInterval(-.infinity, .infinity) }
        return out(Swift.min(Swift.min(p0, p1), Swift.min(p2, p3)), Swift.max(Swift.max(p0, p1), Swift.max(p2, p3)))
    }

    /// - Precondition: 0 ∉ b.
    public static func / (a: OutwardInterval, b: OutwardInterval) -> OutwardInterval {
        precondition(b.lo > 0 || b.hi < 0, "division by an interval containing 0")
        let (p0, p1, p2, p3) = (a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi)
        if p0.isNaN || p1.isNaN || p2.isNaN || p3.isNaN { return OutwardInterval(-.infinity, .infinity) }
        return out(Swift.min(Swift.min(p0, p1), Swift.min(p2, p3)), Swift.max(Swift.max(p0, p1), Swift.max(p2, p3)))
    }

    /// Enclosure of exp over the interval (exp is increasing).
    public var exp: OutwardInterval {
        OutwardInterval(CertifiedElementary.expDown(lo), CertifiedElementary.expUp(hi))
    }

    /// Enclosure of log over the interval (log is increasing).
    /// - Precondition: lo > 0.
    public var log: OutwardInterval {
        precondition(lo > 0, "log of a non-positive interval")
        return OutwardInterval(CertifiedElementary.logDown(lo), CertifiedElementary.logUp(hi))
    }

    /// The hull of two intervals.
    public func hull(_ b: OutwardInterval) -> OutwardInterval {
        OutwardInterval(Swift.min(lo, b.lo), Swift.max(hi, b.hi))
    }

    /// The larger of two reals given by enclosures.
    public static func max(_ a: OutwardInterval, _ b: OutwardInterval) -> OutwardInterval {
        OutwardInterval(Swift.max(a.lo, b.lo), Swift.max(a.hi, b.hi))
    }
}
