import Foundation

/// Directed-rounding exp and log for the degree certificates.
///
/// Postconditions: `expDown(x) ≤ eˣ ≤ expUp(x)`, `logDown(x) ≤ ln x ≤ logUp(x)`.
///
/// Implementation: the libm result widened by 4 ulp on the proper side.
/// glibc documents exp and log on x86-64/aarch64 as accurate to < 1 ulp, so
/// 4 ulp leaves a margin of 3. (Replaced by MPFR's correctly rounded
/// functions once AttnCertified's interval layer is merged.)
public enum CertifiedElementary {
    @inline(__always) static func down(_ x: Double, _ k: Int = 4) -> Double {
        var y = x
        for _ in 0..<k { y = y.nextDown }
        return y
    }

    @inline(__always) static func up(_ x: Double, _ k: Int = 4) -> Double {
        var y = x
        for _ in 0..<k { y = y.nextUp }
        return y
    }

    public static func expDown(_ x: Double) -> Double {
        if x == -.infinity { return 0 }
        return max(0, down(Foundation.exp(x)))
    }

    public static func expUp(_ x: Double) -> Double {
        let y = Foundation.exp(x)
        return y == 0 ? Double.leastNonzeroMagnitude.nextUp : up(y)
    }

    public static func logDown(_ x: Double) -> Double { down(Foundation.log(x)) }
    public static func logUp(_ x: Double) -> Double { up(Foundation.log(x)) }
}
