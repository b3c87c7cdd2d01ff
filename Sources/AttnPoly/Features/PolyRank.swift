import Foundation

/// The rank of the polynomial method: the number of monomials of total
/// degree ≤ g in d variables, r(d, g) = C(g + d, d).
///
/// Proof: Proofs/rank-count.md. Test: `AttnPolyTests.RankAndFeatureTests`
/// (`rank` equals the length of `MonomialTable` and Pascal's rule).
public enum PolyRank {
    /// C(g + d, d) exactly, or nil if it exceeds `Int.max`.
    ///
    /// Computed as Π_{i=1..min(d,g)} (m − min + i)/i with m = g + d; every
    /// partial product is itself a binomial coefficient, so each division is exact.
    /// - Precondition: d ≥ 0, g ≥ 0.
    public static func rank(d: Int, degree g: Int) -> Int? {
        precondition(d >= 0 && g >= 0, "d and g must be ≥ 0")
        let (m, overflow) = g.addingReportingOverflow(d)
        if overflow { return nil }
        let k = min(d, g)
        var r = 1
        if k == 0 { return 1 }
        for i in 1...k {
            // r = C(m − k + i − 1, i − 1); next is r·(m − k + i)/i.
            let (p, o) = r.multipliedReportingOverflow(by: m - k + i)
            if o {
                // Divide first by gcd to stay in range where possible.
                let g1 = gcd(r, i), g2 = i / g1
                let (p2, o2) = (r / g1).multipliedReportingOverflow(by: (m - k + i) / g2)
                if o2 { return nil }
                r = p2
            } else {
                r = p / i
            }
        }
        return r
    }

    /// ln C(g + d, d), accurate to a few ulps, for ranks beyond `Int.max`
    /// (the sweep's cost exponents).
    public static func logRank(d: Int, degree g: Int) -> Double {
        precondition(d >= 0 && g >= 0)
        return lgamma(Double(g + d) + 1) - lgamma(Double(g) + 1) - lgamma(Double(d) + 1)
    }

    /// C(g + d, d) as a double (rounded; +∞ beyond the double range).
    public static func rankAsDouble(d: Int, degree g: Int) -> Double {
        if let r = rank(d: d, degree: g) { return Double(r) }
        return exp(logRank(d: d, degree: g))
    }

    /// The largest degree g with C(g + d, d) ≤ maxRank (nil if even g = 0,
    /// rank 1, exceeds it, i.e. maxRank < 1); never above `CertifiedExpBound.maxDegree`.
    public static func largestDegree(d: Int, maxRank: Int) -> Int? {
        guard maxRank >= 1 else { return nil }
        if d == 0 { return CertifiedExpBound.maxDegree }  // rank 1 at every degree
        var g = 0
        while g < CertifiedExpBound.maxDegree, let r = rank(d: d, degree: g + 1), r <= maxRank { g += 1 }
        return g
    }

    static func gcd(_ a: Int, _ b: Int) -> Int {
        var (x, y) = (abs(a), abs(b))
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }
}
