/// The constants of the standard model of floating-point arithmetic,
/// fl(a ∘ b) = (a ∘ b)(1 + δ) with |δ| ≤ u (Higham, *Accuracy and Stability of
/// Numerical Algorithms*, 2nd ed., §3.1): one definition for every rounding
/// bound in the package (`ForwardErrorBound`, `PolyErrorBound`, the paged
/// a-posteriori bound), so that none re-derives it.
public enum Rounding {
    /// γ_n = n·u/(1 − n·u), rounded up to a Double; +∞ when n·u ≥ 1 (then no
    /// bound holds). A sum or dot product of n terms errs by at most
    /// γ_n·Σ|terms| (Higham, Lemma 3.1).
    ///
    /// Why it is an upper bound: u is a power of two and n an integer below
    /// 2⁵², so n·u and 1 − n·u are exact; the quotient is rounded to nearest
    /// (within half an ulp), and two `nextUp`s step past it.
    /// Proof: Proofs/rounding-gamma.md. Test: `AttnCoreTests.RoundingTests`.
    @inlinable
    public static func gamma(_ n: Int, unitRoundoff u: Double) -> Double {
        gamma(Double(n), unitRoundoff: u)
    }

    /// γ_m for a count m held as a Double (an integer below 2⁵²).
    @inlinable
    public static func gamma(_ m: Double, unitRoundoff u: Double) -> Double {
        let x = m * u
        return x < 1 ? (x / (1 - x)).nextUp.nextUp : .infinity
    }
}
