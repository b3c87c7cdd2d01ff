/// The polynomial approximations of eˣ on a symmetric interval [−R, R].
///
/// Each family defines, for every degree g, one exact (real-coefficient)
/// polynomial P_g; `CertifiedExpBound.relativeError` certifies an upper bound
/// on sup_{|x|≤R} |P_g(x) − eˣ|/eˣ for that exact polynomial.
public enum ExpFamily: String, Sendable, CaseIterable, Codable {
    /// Taylor polynomial at 0: P_g(x) = Σ_{t≤g} xᵗ/t!.
    case taylor
    /// Chebyshev truncation on [−R, R]:
    /// P_g(x) = I₀(R) + 2 Σ_{1≤k≤g} I_k(R)·T_k(x/R) (I_k the modified Bessel
    /// functions). Near-minimax: within a factor ≈ 2 of the best uniform
    /// approximation; the Chebyshev interpolant's error bound is twice this.
    case chebyshev
    /// Chebyshev interpolant: the degree-g polynomial through eˣ at the g + 1
    /// Chebyshev points of the first kind on [−R, R], R·cos((2j+1)π/(2g+2)).
    /// Near-minimax as well; its certified bound is twice the truncation's
    /// (each aliased Chebyshev term can add its coefficient once more).
    case interpolant
    /// Shifted Taylor with non-negative coefficients (Alman–Song):
    /// P_g(x) = e^{−R}·Σ_{t≤g} (x + R)ᵗ/t!. Every monomial coefficient is
    /// positive and 0 < P_g(x) ≤ eˣ for every x ≥ −R, so Ã and D̃ are positive.
    case shifted
}
