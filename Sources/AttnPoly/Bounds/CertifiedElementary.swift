import AttnCertified

/// Directed-rounding exp and log for the degree certificates, from MPFR
/// (AttnCertified's `MPFRFloat`).
///
/// Postconditions: `expDown(x) ≤ eˣ ≤ expUp(x)`, `logDown(x) ≤ ln x ≤ logUp(x)`.
///
/// Why it is sound: the argument is exact at 53 bits; `mpfr_exp`/`mpfr_log`
/// are correctly rounded in the requested direction, and the conversion back
/// to a double is rounded in the same direction. MPFR's exponent range
/// (±2³⁰ binary orders) means no intermediate overflow: e^{−10⁶} rounds down
/// to 0 and up to the least subnormal only at the final conversion.
public enum CertifiedElementary {
    @inline(__always) static func apply(
        _ x: Double, _ rounding: Rounding,
        _ f: (MPFRFloat, MPFRFloat, Rounding) -> Int32
    ) -> Double {
        let a = MPFRFloat(x, precision: 53, rounding: .nearest)  // exact
        let r = MPFRFloat(precision: 53)
        _ = f(r, a, rounding)
        return r.double(rounding: rounding)
    }

    public static func expDown(_ x: Double) -> Double {
        if x == -.infinity { return 0 }
        return apply(x, .down) { $0.exp($1, rounding: $2) }
    }

    public static func expUp(_ x: Double) -> Double {
        if x == .infinity { return .infinity }
        if x == -.infinity { return 0 }
        return apply(x, .up) { $0.exp($1, rounding: $2) }
    }

    /// - Precondition: x > 0.
    public static func logDown(_ x: Double) -> Double {
        precondition(x > 0)
        if x == .infinity { return .infinity }
        return apply(x, .down) { $0.log($1, rounding: $2) }
    }

    /// - Precondition: x > 0.
    public static func logUp(_ x: Double) -> Double {
        precondition(x > 0)
        if x == .infinity { return .infinity }
        return apply(x, .up) { $0.log($1, rounding: $2) }
    }
}
