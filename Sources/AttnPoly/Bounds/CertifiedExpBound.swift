import Foundation

/// Certified upper bounds on the sup relative error of each `ExpFamily`
/// polynomial on [−R, R], and the smallest certified degree for a target ε.
///
/// All bounds are computed in the log domain with `OutwardInterval`
/// arithmetic, so they hold for any R and g (no overflow, no sampling).
/// Proof: Proofs/polynomial-method-error.md, §1. Tests:
/// `AttnPolyTests.CertifiedBoundTests` (the bound dominates the error
/// evaluated in high precision at many points; degree monotone in R and 1/ε).
public enum CertifiedExpBound {
    /// ln of a certified upper bound on sup_{|x|≤R} |P_g(x) − eˣ|/eˣ
    /// (`+∞` when the family's certificate does not apply at this degree).
    ///
    /// - Taylor: Lagrange remainder, e^R·R^{g+1}/(g+1)!.
    /// - Chebyshev: e^R·Σ_{k>g}|a_k| with a_k = 2I_k(R) and
    ///   I_{k+1}(R) ≤ R/(2(k+1))·I_k(R), i.e. 2e^R·I_{g+1}(R)/(1 − R/(2(g+2))).
    /// - Interpolant: twice the Chebyshev bound (2·Σ_{k>g}|a_k|, by aliasing).
    /// - Shifted: the Poisson tail e^{−2R}Σ_{t>g}(2R)ᵗ/t! ≤
    ///   e^{−2R}(2R)^{g+1}/(g+1)!/(1 − 2R/(g+2)), and never more than 1.
    ///
    /// Edge cases: R = 0 gives −∞ (every family is exact at x = 0).
    /// - Precondition: R ≥ 0 finite, g ≥ 0.
    public static func logRelativeError(_ family: ExpFamily, R: Double, degree g: Int) -> Double {
        precondition(R >= 0 && R.isFinite && g >= 0, "need R ≥ 0 finite and g ≥ 0")
        if R == 0 { return -.infinity }
        let r = OutwardInterval(exactly: R)
        let one = OutwardInterval(exactly: 1)
        switch family {
        case .taylor:
            return (r + OutwardInterval(g + 1) * r.log - LogFactorial.enclosure(g + 1)).hi
        case .shifted:
            let y = OutwardInterval(exactly: 2 * R)  // exact doubling
            guard Double(g + 2) > 2 * R else { return 0 }
            let geometric = one - y / OutwardInterval(g + 2)
            let tail = OutwardInterval(g + 1) * y.log - LogFactorial.enclosure(g + 1) - geometric.log - y
            return min(0, tail.hi)
        case .chebyshev, .interpolant:
            guard Double(g + 2) > R / 2 else { return .infinity }
            let half = OutwardInterval(exactly: R / 2)  // exact halving (R ≥ 2⁻¹⁰²¹ here in practice)
            let geometric = one - half / OutwardInterval(g + 2)
            guard let logI = logBesselI(g + 1, R: R) else { return .infinity }
            // Truncation: Σ_{k>g}|a_k| = 2Σ I_k; interpolant: twice that (aliasing).
            let factor = OutwardInterval(exactly: family == .interpolant ? 4 : 2)
            let total = factor.log + r + logI - geometric.log
            return total.hi
        }
    }

    /// A certified upper bound on sup_{|x|≤R} |P_g(x) − eˣ|/eˣ (rounded up;
    /// may be +∞ where the certificate does not apply).
    public static func relativeError(_ family: ExpFamily, R: Double, degree g: Int) -> Double {
        let l = logRelativeError(family, R: R, degree: g)
        if l == -.infinity { return 0 }
        return CertifiedElementary.expUp(l)
    }

    /// Enclosure of ln I_k(R) for k ≥ 1, R > 0, from the series
    /// I_k(R) = (R/2)ᵏ/k! · Σ_m Π_{i<m} ρ_i, ρ_i = (R/2)²/((i+1)(i+k+1)).
    /// Once ρ_m ≤ ½ the remaining terms are bounded by a geometric series.
    /// Returns nil if the partial sums leave the double range.
    static func logBesselI(_ k: Int, R: Double) -> OutwardInterval? {
        let half = OutwardInterval(exactly: R / 2)
        let q = half * half
        var term = OutwardInterval(exactly: 1), sum = OutwardInterval(exactly: 1)
        // The partial sums can exceed the double range (up to e^{R²/(4k)}): rescale both by
        // the exact power 2⁻⁹⁰⁰ when they grow, and add back `shifts`·900·ln 2 at the end.
        let down = OutwardInterval(exactly: 0x1p-900)
        var shifts = 0
        var m = 0
        while true {
            let rho = q / (OutwardInterval(m + 1) * OutwardInterval(m + k + 1))
            // Stop once ρ ≤ ½ (geometric tail) and the tail is negligible next to the sum.
            if rho.hi <= 0.5, term.hi * rho.hi <= 0x1p-60 * sum.lo {
                // Σ_{j>m} term_j ≤ term_m·ρ_m/(1 − ρ_m) ≤ term_m·ρ_m·2, and ρ_i decreases.
                let tail = term * OutwardInterval(0, rho.hi) * OutwardInterval(exactly: 2)
                sum = sum + tail
                break
            }
            term = term * rho
            sum = sum + term
            if sum.hi > 0x1p900 {
                term = term * down
                sum = sum * down
                shifts += 1
            }
            m += 1
            guard sum.hi.isFinite, m < 100_000_000 else { return nil }
        }
        let offset = OutwardInterval(shifts * 900) * OutwardInterval(exactly: 2).log
        return OutwardInterval(k) * half.log - LogFactorial.enclosure(k) + sum.log + offset
    }

    // MARK: Degree selection

    /// The largest degree `certifiedDegree` searches (beyond it: nil).
    public static let maxDegree = 100_000

    /// The smallest degree g whose certified bound `relativeError(family, R, g)`
    /// is ≤ ε, or nil if none up to `maxDegree`.
    ///
    /// Memoised (thread-safe). Each family's bound decreases in g beyond a
    /// point m(R) (Taylor: R + 2; shifted: 2R − 1; Chebyshev: R/2 − 1); the
    /// search scans linearly below m(R) where needed and bisects above it, so
    /// a first call costs O(log g) certificates (O(R) for Taylor).
    /// - Precondition: R ≥ 0 finite, 0 < ε (ε ≥ 1 is allowed).
    public static func certifiedDegree(R: Double, epsilon: Double, family: ExpFamily = .chebyshev) -> Int? {
        precondition(R >= 0 && R.isFinite, "R must be ≥ 0 and finite")
        precondition(epsilon > 0 && !epsilon.isNaN, "ε must be > 0")
        let key = DegreeKey(family: family, R: R.bitPattern, epsilon: epsilon.bitPattern)
        if let hit = DegreeCache.shared.lookup(key) { return hit }
        func ok(_ g: Int) -> Bool {
            let l = logRelativeError(family, R: R, degree: g)
            // Certified comparison: the bound is ≤ expUp(l), which must be ≤ ε.
            return l == -.infinity || CertifiedElementary.expUp(l) <= epsilon
        }
        // Below `monotoneFrom` a family's bound may rise with g (Taylor) or be
        // a constant ≥ 1 / +∞ (shifted, Chebyshev); from there on it decreases.
        // Degrees as Int only below maxDegree: R beyond 2⁶³ (regime on huge heads) must not trap.
        func degree(_ x: Double) -> Int { x < Double(maxDegree) ? Int(x) : maxDegree }
        let monotoneFrom: Int
        switch family {
        case .taylor: monotoneFrom = min(maxDegree, degree(R.rounded(.up)) + 2)
        case .shifted: monotoneFrom = min(maxDegree, max(0, degree((2 * R).rounded(.down)) - 1))
        case .chebyshev, .interpolant: monotoneFrom = min(maxDegree, max(0, degree((R / 2).rounded(.down)) - 1))
        }
        var result: Int? = nil
        // Linear scan where the bound need not be monotone (short: O(R)),
        // then galloping + bisection on the decreasing part.
        if family == .taylor {
            // For g + 1 ≤ R, R^{g+1}/(g+1)! ≥ 1, so the bound is ≥ e^R ≥ 1: skip those when ε < 1.
            let start = epsilon < 1 ? min(monotoneFrom, max(0, degree(R.rounded(.down)) - 1)) : 0
            for g in start..<monotoneFrom where ok(g) { result = g; break }
        }
        if result == nil {
            if ok(monotoneFrom) {
                result = monotoneFrom
                if family != .taylor {
                    // Chebyshev is +∞ and shifted is ≥ 1 below the monotone range, so the
                    // smallest admissible g is ≥ monotoneFrom unless ε ≥ 1: scan back.
                    var g = monotoneFrom
                    while g > 0, ok(g - 1) { g -= 1 }
                    result = g
                }
            } else {
                var lo = monotoneFrom, step = 1, hi = -1
                while lo + step <= maxDegree {
                    if ok(lo + step) { hi = lo + step; break }
                    lo += step
                    step *= 2
                }
                if hi < 0, lo < maxDegree, ok(maxDegree) { hi = maxDegree }
                if hi >= 0 {
                    // Invariant: ok(hi) and !ok(lo).
                    while hi - lo > 1 {
                        let mid = (lo + hi) / 2
                        if ok(mid) { hi = mid } else { lo = mid }
                    }
                    result = hi
                }
            }
        }
        DegreeCache.shared.store(key, result)
        return result
    }

    /// The smallest certified degree over all families, with the family that attains it
    /// (ties prefer `shifted`, then `chebyshev`, then `taylor`).
    public static func bestCertifiedDegree(R: Double, epsilon: Double) -> (family: ExpFamily, degree: Int)? {
        var best: (ExpFamily, Int)? = nil
        for f in [ExpFamily.shifted, .chebyshev, .interpolant, .taylor] {
            if let g = certifiedDegree(R: R, epsilon: epsilon, family: f), best == nil || g < best!.1 { best = (f, g) }
        }
        return best
    }

    /// The Aggarwal–Alman optimal degree for relative error ε of eˣ on an
    /// interval of length L = 2R, Θ(max(L, ln(1/ε)/ln(ln(1/ε)/L))), with
    /// its hidden constant set to 1 (for comparison only; not a certificate).
    /// The inner logarithm is floored at 1 so the formula stays finite.
    public static func aggarwalAlmanDegree(R: Double, epsilon: Double) -> Double {
        let L = 2 * R
        let lg = log(1 / epsilon)
        guard lg > 0 else { return L }
        let inner = L > 0 ? max(1, log(lg / L)) : max(1, log(lg))
        return max(L, lg / inner)
    }
}

struct DegreeKey: Hashable, Sendable {
    let family: ExpFamily
    let R: UInt64
    let epsilon: UInt64
}

/// Memo of `certifiedDegree` (the lock is the only path to the dictionary).
final class DegreeCache: @unchecked Sendable {
    static let shared = DegreeCache()
    private var table: [DegreeKey: Int?] = [:]
    private let lock = NSLock()

    func lookup(_ k: DegreeKey) -> Int?? {
        lock.lock(); defer { lock.unlock() }
        return table[k]
    }

    func store(_ k: DegreeKey, _ v: Int?) {
        lock.lock(); defer { lock.unlock() }
        if table.count > 1_000_000 { table.removeAll() }
        table[k] = v
    }
}
