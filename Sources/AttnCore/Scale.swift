import Foundation

/// The softmax scale `s` in `A = exp(s·QKᵀ)`. Always explicit: there is no default.
///
/// - `paper`: s = 1/d (Alman–Song's convention).
/// - `standard`: s = 1/√d.
/// - `decimal(text)`: a positive decimal number, kept as written so that the
///   certified reference can read it as an exact rational ("0.37" is 37/100).
///   Floating-point kernels use the nearest double.
public enum Scale: Sendable, Hashable, LosslessStringConvertible {
    case paper
    case standard
    case decimal(String)

    /// Parses `paper`, `standard` or a positive finite decimal.
    ///
    /// - Throws: `AttnError.usage` for zero, negative, NaN, infinite or
    ///   unparseable values (AttnKit.docc/Conventions.md).
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        switch t.lowercased() {
        case "paper": self = .paper
        case "standard": self = .standard
        default:
            guard Scale.isPlainDecimal(t), let x = Double(t) else {
                throw AttnError.usage(.scale, "'\(text)' is not paper, standard or a positive decimal number")
            }
            guard x.isFinite, x > 0 else {
                throw AttnError.usage(.scale, "\(text) must be positive and finite")
            }
            self = .decimal(t)
        }
    }

    /// `init(parsing:)`, or nil where it throws (LosslessStringConvertible: `Scale("0.37")`).
    public init?(_ description: String) {
        guard let s = try? Scale(parsing: description) else { return nil }
        self = s
    }

    /// A positive value given as a double (for programmatic use). The decimal
    /// kept is the shortest round-trip form, so `Scale(0.37)` means 37/100.
    public init(_ value: Double) {
        precondition(value.isFinite && value > 0, "scale must be positive and finite")
        self = .decimal("\(value)")
    }

    /// The scale as the nearest double, for head dimension `d`.
    ///
    /// Postcondition: `value(d:) > 0` and finite for every `d ≥ 1`.
    public func value(d: Int) -> Double {
        precondition(d >= 1, "head dimension must be at least 1")
        switch self {
        case .paper: return 1.0 / Double(d)
        case .standard: return 1.0 / Double(d).squareRoot()
        case .decimal(let t): return Double(t)!
        }
    }

    /// The one proved constant for the scale as floating point holds it (Proofs/scale-rounding.md;
    /// tested by `ScaleTests.roundedScaleWithinItsProvedConstant`):
    ///
    ///     |ŝ − s*| ≤ relativeError(unitRoundoff: u) · s*
    ///
    /// for every convention and every d, where s* is the exact real the scale stands for (1/d,
    /// 1/√d, or the decimal as written) and ŝ is `value(d:)` (u = 2⁻⁵³), or that double rounded to
    /// nearest in a binary format with unit roundoff u ≥ 2⁻⁵³ (u = 2⁻²⁴: the Float kernels' scale).
    /// It is 2u for doubles (1/√d takes two roundings; measured up to 1.48u) and
    /// u(1 + 2u₆₄) + 2u₆₄ for a coarser format.
    public static func relativeError(unitRoundoff u: Double) -> Double {
        let u64 = 0x1p-53
        return u <= u64 ? 2 * u64 : (u * (1 + 2 * u64) + 2 * u64).nextUp
    }

    /// `relativeError(unitRoundoff:)` over the whole range, subnormal and zero rounded scales included
    /// (Proofs/scale-rounding.md, "Subnormal scales"; tested by `ScaleTests.subnormalScaleWithinItsConstant`):
    ///
    ///     |ŝ − s*| ≤ relativeError(unitRoundoff: u, leastNonzeroMagnitude: τ, value: s) · s*
    ///
    /// where s = `value(d:)` (> 0), ŝ is s rounded to the format with unit roundoff u ≥ 2⁻⁵³ and least
    /// nonzero magnitude τ ≥ 2⁻¹⁰⁷⁴ (gradual underflow: ŝ may be subnormal or 0). Each rounding errs
    /// by u relatively or τ/2 absolutely, so |ŝ − s*| ≤ c_s·s* + τ/2 + τ₆₄, and s* ≥ s/(1 + 2u₆₄) for a
    /// normal double s, s* ≥ s/2 for a subnormal one: c = c_s + (τ/2 + τ₆₄)/s·(1 + 2⁻⁵² or 2). For a Float
    /// scale near τ it is about 1: such a scale is charged as lost.
    public static func relativeError(unitRoundoff u: Double, leastNonzeroMagnitude tau: Double, value s: Double)
        -> Double
    {
        let absolute = (tau / 2 + 0x1p-1074) * (s.isNormal ? 1 + 0x1p-52 : 2) / s  // mutation-check: scale-subnormal
        return (relativeError(unitRoundoff: u) + absolute.nextUp).nextUp
    }

    /// An upper bound on both s* and its rounding ŝ to the format (u, τ) of
    /// `relativeError(unitRoundoff:leastNonzeroMagnitude:value:)`: (s + τ)(1 + 3u).
    public static func upperBound(value s: Double, unitRoundoff u: Double, leastNonzeroMagnitude tau: Double)
        -> Double
    {
        ((s + tau) * (1 + 3 * Swift.max(u, 0x1p-53))).nextUp
    }

    public var description: String {
        switch self {
        case .paper: "paper"
        case .standard: "standard"
        case .decimal(let t): t
        }
    }

    /// Digits, one optional point, an optional exponent: no hex, no "nan", no "inf".
    static func isPlainDecimal(_ s: String) -> Bool {
        var sawDigit = false, sawPoint = false, sawExp = false, prevE = false
        for (i, c) in s.enumerated() {
            if c.isASCII, c.isNumber { sawDigit = true; prevE = false; continue }
            switch c {
            case "+", "-":
                guard i == 0 || prevE else { return false }
            case ".":
                guard !sawPoint, !sawExp else { return false }
                sawPoint = true
            case "e", "E":
                guard sawDigit, !sawExp else { return false }
                sawExp = true; prevE = true; continue
            default: return false
            }
            prevE = false
        }
        return sawDigit && !prevE
    }
}
