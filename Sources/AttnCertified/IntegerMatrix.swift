import AttnCore

/// A matrix of finite binary floating-point numbers, rewritten exactly as
/// integers times one common power of two: x_rc = m_rc · 2^exponent.
///
/// Every finite Float or Double is a dyadic rational m·2^k with |m| < 2⁵³,
/// so choosing `exponent` = the smallest k over the nonzero entries makes
/// every m_rc an integer (exact, no rounding: the certified reference starts
/// from the inputs' true values, subnormals included).
///
/// Storage: `Int64` when every |m_rc| < 2⁶² (the fast path; typical inputs
/// need ~53 + a few bits), else GMP integers. Immutable once built.
final class IntegerMatrix: @unchecked Sendable {
    let rows: Int
    let cols: Int
    /// x_rc = m_rc · 2^exponent.
    let exponent: Int
    /// The m_rc when they all fit in 62 bits, else nil.
    let small: [Int64]?
    /// The m_rc as GMP integers when `small` is nil (else empty).
    let big: [GMPInteger]
    /// max over entries of the bit length of |m_rc| (0 for an all-zero matrix).
    let maxBits: Int

    /// - Precondition: every value is finite (callers validate inputs first).
    init(rows: Int, cols: Int, values: [Double]) {
        precondition(values.count == rows * cols)
        self.rows = rows
        self.cols = cols
        let parts = values.map(Dyadic.init)
        let e = parts.lazy.filter { $0.mantissa != 0 }.map(\.exponent).min() ?? 0
        exponent = e
        var bits = 0
        for p in parts where p.mantissa != 0 {
            bits = max(bits, (64 - p.mantissa.magnitude.leadingZeroBitCount) + (p.exponent - e))
        }
        maxBits = bits
        if bits <= 62 {
            small = parts.map { $0.mantissa == 0 ? 0 : $0.mantissa << Int64($0.exponent - e) }
            big = []
        } else {
            small = nil
            big = parts.map { p in
                let z = GMPInteger(Int(p.mantissa))
                if p.mantissa != 0 { z.shiftLeft(z, by: p.exponent - e) }
                return z
            }
        }
    }

    /// Entry (r, c) as a GMP integer (into `z`).
    func entry(_ r: Int, _ c: Int, into z: GMPInteger) {
        if let small { z.set(Int(small[r * cols + c])) } else { z.set(big[r * cols + c]) }
    }
}

/// A finite double as mantissa · 2^exponent with an odd (or zero) mantissa.
struct Dyadic {
    let mantissa: Int64
    let exponent: Int

    init(_ x: Double) {
        precondition(x.isFinite, "Dyadic of a non-finite value")
        if x == 0 { mantissa = 0; exponent = 0; return }
        // x = significand·2^e with significand ∈ [1, 2) holding `significandWidth` fraction bits.
        let w = max(0, x.significandWidth)
        let m = Int64(x.significand * Double(sign: .plus, exponent: w, significand: 1))
        mantissa = x < 0 ? -m : m
        exponent = Int(x.exponent) - w
    }
}
