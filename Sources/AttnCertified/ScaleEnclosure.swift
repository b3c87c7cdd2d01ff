import AttnCore

/// The softmax scale s as the certified reference reads it (AttnKit.docc/Conventions.md):
/// `paper` is the rational 1/d, a decimal is its exact rational value
/// ("0.37" = 37/100), `standard` is the real 1/√d, rational exactly when d is
/// a perfect square.
///
/// A rational s = num/den is kept exactly (GMP integers), so a score
/// s·⟨q,k⟩ is an exact rational rounded once per direction; an irrational s
/// is an MPFR enclosure [sLo, sHi] at the working precision. Immutable once built.
final class ScaleEnclosure: @unchecked Sendable {
    /// s = numerator/denominator exactly, when s is rational.
    let numerator: GMPInteger?
    let denominator: GMPInteger?
    /// Shortcuts: num = 1 or den = 1 saves a multiplication or a division per score.
    let numeratorIsOne: Bool
    /// k when the denominator is 2^k (then dividing by it is an exact exponent shift).
    let denominatorLog2: Int?
    /// sLo ≤ s ≤ sHi (equal when s is representable at `precision`).
    let lower: MPFRFloat
    let upper: MPFRFloat

    /// - Throws: `AttnError.usage` if a decimal scale is not a positive decimal.
    init(_ scale: Scale, d: Int, precision: Int) throws {
        precondition(d >= 1)
        var rational: GMPRational?
        switch scale {
        case .paper:
            rational = GMPRational(1, d)
        case .standard:
            let r = Int(Double(d).squareRoot().rounded())
            if r * r == d { rational = GMPRational(1, r) }
        case .decimal(let text):
            guard let q = GMPRational(decimal: text), q.sign > 0 else {
                throw AttnError.usage(.scale, "'\(text)' is not a positive decimal number")
            }
            rational = q
        }
        lower = MPFRFloat(precision: precision)
        upper = MPFRFloat(precision: precision)
        if let rational {
            let n = GMPInteger(), m = GMPInteger()
            rational.numerator(into: n)
            rational.denominator(into: m)
            numerator = n
            denominator = m
            numeratorIsOne = n.intValue == 1
            denominatorLog2 = m.isPowerOfTwo ? m.bitWidth - 1 : nil
            lower.set(rational, rounding: .down)
            upper.set(rational, rounding: .up)
        } else {
            numerator = nil
            denominator = nil
            numeratorIsOne = false
            denominatorLog2 = nil
            let dd = MPFRFloat(precision: 64)
            dd.set(d, rounding: .nearest)  // exact: d < 2⁶³
            lower.reciprocalSqrt(dd, rounding: .down)
            upper.reciprocalSqrt(dd, rounding: .up)
        }
    }

    var isRational: Bool { numerator != nil }
}
