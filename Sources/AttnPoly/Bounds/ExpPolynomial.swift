import AttnCore
import Foundation

/// One polynomial approximation of eˣ on [−R, R], in the monomial basis
/// P̂(x) = Σ_{t≤g} ĉ_t xᵗ, with certified error bounds for the polynomial
/// actually stored.
///
/// The exact family polynomial P_g has real coefficients c_t; each is enclosed
/// in an `OutwardInterval` and stored as the double ĉ_t nearest the
/// enclosure's midpoint, with |ĉ_t − c_t| ≤ δ_t. Then, for |x| ≤ R,
///
///   |P̂(x) − eˣ|/eˣ ≤ ε_g + e^R·Σ_t δ_t·Rᵗ  =: `certifiedRelativeError`,
///
/// where ε_g = `CertifiedExpBound.relativeError(family, R, g)`.
/// Proof: Proofs/polynomial-method-error.md, §1–2.
/// Test: `AttnPolyTests.CertifiedBoundTests.storedPolynomialWithinBound`.
public struct ExpPolynomial: Sendable, Equatable {
    public let family: ExpFamily
    /// Half-width of the interval [−R, R] the bound covers.
    public let radius: Double
    public let degree: Int
    /// ĉ_0 … ĉ_g (monomial coefficients in x).
    public let coefficients: [Double]
    /// δ_t ≥ |ĉ_t − c_t| (certified).
    public let coefficientErrors: [Double]
    /// ε_g: certified bound for the exact family polynomial.
    public let approximationBound: Double
    /// Certified bound on sup_{|x|≤R} |P̂(x) − eˣ|/eˣ for the stored P̂.
    public let certifiedRelativeError: Double

    /// Largest radius and degree whose coefficient enclosures stay in the double range.
    public static let maxRadius = 300.0
    public static let maxDegree = 2000

    /// - Throws: `AttnError.infeasible` if R > `maxRadius` or g > `maxDegree`;
    ///   `AttnError.usage` if R is negative or not finite, or g < 0.
    public init(family: ExpFamily, radius R: Double, degree g: Int) throws {
        guard R.isFinite, R >= 0 else { throw AttnError.usage("score radius R = \(R) must be finite and ≥ 0") }
        guard g >= 0 else { throw AttnError.usage("degree \(g) must be ≥ 0") }
        guard R <= ExpPolynomial.maxRadius else {
            throw AttnError.infeasible(
                "score radius R = \(R) exceeds \(ExpPolynomial.maxRadius): e^±R leaves the double range of the coefficients"
            )
        }
        guard g <= ExpPolynomial.maxDegree else {
            throw AttnError.infeasible("degree \(g) exceeds the limit \(ExpPolynomial.maxDegree)")
        }
        self.family = family
        self.radius = R
        self.degree = g
        let enclosures = ExpPolynomial.coefficientEnclosures(family, R: R, degree: g)
        guard enclosures.allSatisfy(\.isFinite) else {
            throw AttnError.infeasible(
                "the \(family.rawValue) coefficients of degree \(g) on [−\(R), \(R)] leave the double range")
        }
        var c = [Double](repeating: 0, count: g + 1), delta = c
        for t in 0...g {
            let e = enclosures[t]
            let mid = e.lo / 2 + e.hi / 2
            c[t] = mid
            delta[t] = Swift.max((e.hi - mid).nextUp, (mid - e.lo).nextUp)
        }
        coefficients = c
        coefficientErrors = delta
        approximationBound = CertifiedExpBound.relativeError(family, R: R, degree: g)
        // e^R·Σ δ_t Rᵗ, rounded up.
        var s = OutwardInterval(exactly: 0), p = OutwardInterval(exactly: 1)
        let r = OutwardInterval(exactly: R)
        for t in 0...g {
            s = s + OutwardInterval(0, delta[t]) * p
            p = p * r
        }
        let coefTerm = (s * r.exp).hi
        certifiedRelativeError = (OutwardInterval(0, approximationBound) + OutwardInterval(0, coefTerm)).hi
    }

    /// The polynomial of the smallest degree whose **stored** Float64 polynomial is certified for ε:
    /// `certifiedRelativeError` = ε_g + e^R·Σ_t δ_t·Rᵗ ≤ ε (the coefficients' rounding included).
    ///
    /// The search starts at g₀ = `CertifiedExpBound.certifiedDegree` (ε_g ≤ ε: the exact-coefficient
    /// polynomial) and raises g while the stored bound exceeds ε. The coefficient term grows with g, so
    /// once it alone exceeds ε no degree can help: then ε is out of reach of a double-coefficient
    /// monomial polynomial on [−R, R] (e.g. R = 10, ε = 10⁻¹²: e^R·Σδ_t·Rᵗ ≥ 5·10⁻⁸), and the g₀
    /// polynomial is returned, whose `certifiedRelativeError` > ε states what it does certify (every
    /// consumer bounds with `certifiedRelativeError`, never with ε). `meetsEpsilon` tells the two apart.
    /// Test: `CertifiedBoundTests.epsilonConstructorCertifiesTheStoredPolynomial`.
    /// - Throws: `AttnError.infeasible` if no degree ≤ `maxDegree` certifies even the exact polynomial.
    public init(family: ExpFamily, radius R: Double, epsilon: Double) throws {
        guard epsilon > 0, epsilon.isFinite else {
            throw AttnError.usage(.epsilon, "\(epsilon) must be positive and finite")
        }
        guard R.isFinite, R >= 0 else { throw AttnError.usage("score radius R = \(R) must be finite and ≥ 0") }
        guard let g0 = CertifiedExpBound.certifiedDegree(R: R, epsilon: epsilon, family: family),
            g0 <= ExpPolynomial.maxDegree
        else {
            throw AttnError.infeasible(
                "no \(family.rawValue) degree ≤ \(ExpPolynomial.maxDegree) certifies ε = \(epsilon) on [−\(R), \(R)]")
        }
        let first = try ExpPolynomial(family: family, radius: R, degree: g0)
        var p = first
        // A few degrees more at most: past that the coefficient term only grows.
        while p.certifiedRelativeError > epsilon, p.certifiedRelativeError - p.approximationBound <= epsilon,
            p.degree < Swift.min(ExpPolynomial.maxDegree, g0 + 64)
        {
            p = try ExpPolynomial(family: family, radius: R, degree: p.degree + 1)
        }
        self = p.certifiedRelativeError <= epsilon ? p : first
    }

    /// True when the stored polynomial is certified for `epsilon` (`certifiedRelativeError ≤ epsilon`).
    public func meetsEpsilon(_ epsilon: Double) -> Bool { certifiedRelativeError <= epsilon }

    /// P̂(x) by Horner in Double (for tests and diagnostics; the attention
    /// kernels never evaluate P̂ directly).
    public func evaluate(_ x: Double) -> Double {
        var y = 0.0
        for t in stride(from: degree, through: 0, by: -1) { y = y * x + coefficients[t] }
        return y
    }

    /// Σ_t |ĉ_t|·yᵗ (the majorant P̄ the rounding analysis uses), rounded up.
    ///
    /// Horner on non-negative terms: each of the 2g operations has relative
    /// error ≤ u and nothing cancels, so the computed value is within γ_{2g}
    /// of the exact one; we multiply by 1 + 4(g + 2)u ≥ 1 + γ_{2g} (for g < 2⁴⁸).
    public func absoluteMajorant(at y: Double) -> Double {
        precondition(y >= 0)
        var s = 0.0
        for t in stride(from: degree, through: 0, by: -1) { s = s * y + abs(coefficients[t]) }
        return (s * (1 + 4 * Double(degree + 2) * 0x1p-53)).nextUp
    }

    // MARK: Coefficient enclosures

    static func coefficientEnclosures(_ family: ExpFamily, R: Double, degree g: Int) -> [OutwardInterval] {
        let one = OutwardInterval(exactly: 1)
        // 1/t! for t = 0…g.
        var invFact = [one]
        for t in stride(from: 1, through: g, by: 1) { invFact.append(invFact[t - 1] / OutwardInterval(t)) }
        switch family {
        case .taylor:
            return invFact
        case .shifted:
            // c_t = e^{−R}/t! · Σ_{j≤g−t} Rʲ/j!  (coefficient of xᵗ in e^{−R}Σ_u (x+R)ᵘ/u!).
            let r = OutwardInterval(exactly: R)
            let eMinusR = OutwardInterval(exactly: -R).exp
            var partial = [one], term = one
            for j in stride(from: 1, through: g, by: 1) {
                term = term * r / OutwardInterval(j)
                partial.append(partial[j - 1] + term)
            }
            return (0...g).map { t in eMinusR * invFact[t] * partial[g - t] }
        case .chebyshev:
            return chebyshevMonomialEnclosures(R: R, degree: g, interpolant: false)
        case .interpolant:
            return chebyshevMonomialEnclosures(R: R, degree: g, interpolant: true)
        }
    }

    /// Chebyshev coefficients a_0 = I₀(R), a_k = 2I_k(R) of e^{Rt}, k = 0…count−1.
    static func chebyshevSeries(R: Double, count: Int) -> [OutwardInterval] {
        (0..<count).map { k in k == 0 ? besselI(0, R: R) : besselI(k, R: R) * OutwardInterval(exactly: 2) }
    }

    /// Chebyshev coefficients b_0…b_g of the interpolant at the N = g + 1 roots of T_N.
    ///
    /// At those points T_{2mN ± k} = (−1)ᵐ·T_k and T_{(2m+1)N} = 0, so
    /// b_k = a_k + Σ_{m≥1} (−1)ᵐ (a_{2mN−k} + a_{2mN+k}) (one term for k = 0).
    /// Coefficients beyond J are not summed: Σ_{j>J} a_j ≤ a_J·ρ/(1 − ρ),
    /// ρ = R/(2(J+1)) < ½, is added as ±T to every b_k (each a_j lands in one b_k).
    static func interpolantCoefficients(R: Double, degree g: Int) -> [OutwardInterval] {
        let N = g + 1
        let J = max(4 * N + 1, g + 66, Int(R.rounded(.up)) + 2)
        let a = chebyshevSeries(R: R, count: J + 1)
        var b = Array(a[0...g])
        var j = N + 1  // indices g + 2 … J alias onto 0…g (N itself maps to 0·T)
        while j <= J {
            let m = (j + N) / (2 * N)  // nearest multiple 2mN
            let k = abs(j - 2 * m * N)
            if k <= g, k != N {
                b[k] = m % 2 == 0 ? b[k] + a[j] : b[k] - a[j]
            }
            j += 1
        }
        let rho = OutwardInterval(exactly: R) / (OutwardInterval(exactly: 2) * OutwardInterval(J + 1))
        let tail = (a[J] * rho / (OutwardInterval(exactly: 1) - rho)).hi
        let pad = OutwardInterval(-tail, tail)
        return b.map { $0 + pad }
    }

    /// Monomial coefficients of Σ_k a_k·T_k(x/R): the truncation (a_k of e^{Rt})
    /// or the interpolant (`interpolantCoefficients`).
    static func chebyshevMonomialEnclosures(R: Double, degree g: Int, interpolant: Bool) -> [OutwardInterval] {
        let zero = OutwardInterval(exactly: 0)
        if R == 0 {
            // e^{0·t} = 1: I₀(0) = 1, I_k(0) = 0.
            return [OutwardInterval(exactly: 1)] + [OutwardInterval](repeating: zero, count: g)
        }
        let a = interpolant ? interpolantCoefficients(R: R, degree: g) : chebyshevSeries(R: R, count: g + 1)
        // Monomial coefficients (in t = x/R) of T_k by T_{k+1} = 2tT_k − T_{k−1}.
        var c = [OutwardInterval](repeating: zero, count: g + 1)
        var prev = [OutwardInterval](repeating: zero, count: g + 1)  // T_{k−1}
        var cur = prev  // T_k
        cur[0] = OutwardInterval(exactly: 1)
        let two = OutwardInterval(exactly: 2)
        for k in 0...g {
            for t in 0...k where cur[t] != zero { c[t] = c[t] + a[k] * cur[t] }
            if k == g { break }
            var next = [OutwardInterval](repeating: zero, count: g + 1)
            if k == 0 {
                next[1] = OutwardInterval(exactly: 1)
            } else {
                for t in 0...k { next[t + 1] = two * cur[t] }
                for t in 0..<k { next[t] = next[t] - prev[t] }
            }
            prev = cur
            cur = next
        }
        // xᵗ coefficient = (tᵗ coefficient)/Rᵗ.
        var rp = OutwardInterval(exactly: 1)
        let r = OutwardInterval(exactly: R)
        for t in 0...g {
            c[t] = c[t] / rp
            rp = rp * r
        }
        return c
    }

    /// Enclosure of I_k(R), k ≥ 0, R > 0, by the series of `CertifiedExpBound.logBesselI`
    /// in the linear domain (safe for R ≤ `maxRadius`).
    static func besselI(_ k: Int, R: Double) -> OutwardInterval {
        let half = OutwardInterval(exactly: R / 2)
        var lead = OutwardInterval(exactly: 1)
        for j in stride(from: 1, through: k, by: 1) { lead = lead * half / OutwardInterval(j) }
        let q = half * half
        var term = OutwardInterval(exactly: 1), sum = term
        var m = 0
        while true {
            let rho = q / (OutwardInterval(m + 1) * OutwardInterval(m + k + 1))
            // Stop once ρ ≤ ½ (geometric tail) and the tail is negligible next to the sum.
            if rho.hi <= 0.5, term.hi * rho.hi <= 0x1p-60 * sum.lo {
                sum = sum + term * OutwardInterval(0, rho.hi) * OutwardInterval(exactly: 2)
                break
            }
            term = term * rho
            sum = sum + term
            m += 1
        }
        return lead * sum
    }
}
