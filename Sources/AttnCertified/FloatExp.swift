/// exp in Float64 with a proved relative error bound, independent of libm.
///
/// **Guarantee** (Proofs/float-certified-engine.md, §3): for every double
/// `x` in `[−tailThreshold, 0]`, `FloatExp.exp(x)` is a normal double with
/// `|FloatExp.exp(x) − eˣ| ≤ relativeErrorBound · eˣ`, and `exp(0) == 1`
/// exactly. Tested against MPFR in `FloatExpTests`.
///
/// Method: Cody–Waite range reduction `x = k·ln2 + r` with `ln2 = C1 + C2 + C3`,
/// `C1` carrying 32 significant bits (so `k·C1` is exact for |k| < 2¹¹), then
/// the degree-13 Taylor polynomial of eʳ on |r| ≤ 0.35 by Horner, then an
/// exact scaling by 2ᵏ (the result stays normal because x ≥ −700).
package enum FloatExp {
    /// Arguments below −700 are the softmax "tail": their weight e^(t−m) ≤ 2⁻¹⁰⁰⁰ is
    /// handled as an absolute error, never by this function.
    package static let tailThreshold = 700.0

    /// ε = 54·2⁻⁵³: Horner rounding γ₂₆·e^{2ρ} ≤ 52.4u, Taylor remainder ≤ 0.09u,
    /// rounded coefficients ≤ 0.02u, reduction error e^{0.75u} (§3 of the proof).
    package static let relativeErrorBound = 54 * 0x1p-53

    // ln 2 = C1 + C2 + C3: C1 = ⌊ln2·2³²⌋/2³², C2 = fl(ln2 − C1), |C3| < 2⁻⁸⁵ (checked with MPFR in the test).
    package static let c1 = 0x1.62e42feep-1
    package static let c2 = 0x1.a39ef35793c76p-33
    package static let invLn2 = 0x1.71547652b82fep0
    /// 1.5·2⁵²: y + S rounds y to an integer for |y| < 2⁵¹, and the low bits of fl(y + S) hold it.
    static let shifter = 0x1.8p52

    /// 1/k! correctly rounded (k! < 2⁵³ is exact, so one division rounds once).
    package static let coefficients: [Double] = {
        var f = 1.0
        return (0...13).map { k in if k > 0 { f *= Double(k) }; return 1 / f }
    }()

    /// eˣ for x ∈ [−700, 0] (see the type's guarantee). Outside that range the bound does not apply.
    @inline(__always) package static func exp(_ x: Double) -> Double {
        let y = x * invLn2 + shifter
        let kd = y - shifter                                     // k = nearest integer to fl(x/ln2)
        let r = (x - kd * c1) - kd * c2                          // |r| ≤ 0.3466 + 2⁻⁴⁰
        var p = 0x1p0 / 6227020800                               // 1/13!
        p = p * r + 1 / 479001600.0
        p = p * r + 1 / 39916800.0
        p = p * r + 1 / 3628800.0
        p = p * r + 1 / 362880.0
        p = p * r + 1 / 40320.0
        p = p * r + 1 / 5040.0
        p = p * r + 1 / 720.0
        p = p * r + 1 / 120.0
        p = p * r + 1 / 24.0
        p = p * r + 1 / 6.0
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // 2ᵏ from the bits of y: bits(y) = bits(S) + k, so (bits(y) − bits(S) + 1023) << 52.
        let e = (y.bitPattern &- shifter.bitPattern &+ 1023) &<< 52
        return p * Double(bitPattern: e)
    }

    /// In place over `buffer[0..<count]`: `t̂ ↦ ŵ = exp(fl(t̂ − m))`, or 0 when
    /// fl(t̂ − m) < −700 (the tail), and 0 for `j ≥ visible` (masked).
    /// Returns X̂ = fl(Σ ŵ·|fl(t̂ − m)|) over the bulk, the sum the score-error bound needs.
    /// - Precondition: m ≥ t̂_j for j < visible, so every exponent is ≤ 0.
    @inline(__always) package static func weights(_ buffer: UnsafeMutablePointer<Double>, count: Int, visible: Int,
                                                  max m: Double) -> Double {
        var x0 = 0.0, x1 = 0.0, x2 = 0.0, x3 = 0.0
        var j = 0
        while j + 4 <= visible {
            let a0 = buffer[j] - m, a1 = buffer[j + 1] - m, a2 = buffer[j + 2] - m, a3 = buffer[j + 3] - m
            let w0 = a0 < -tailThreshold ? 0 : exp(a0), w1 = a1 < -tailThreshold ? 0 : exp(a1)
            let w2 = a2 < -tailThreshold ? 0 : exp(a2), w3 = a3 < -tailThreshold ? 0 : exp(a3)
            buffer[j] = w0; buffer[j + 1] = w1; buffer[j + 2] = w2; buffer[j + 3] = w3
            x0 -= w0 * a0; x1 -= w1 * a1; x2 -= w2 * a2; x3 -= w3 * a3
            j += 4
        }
        while j < visible {
            let a = buffer[j] - m
            let w = a < -tailThreshold ? 0 : exp(a)
            buffer[j] = w
            x0 -= w * a
            j += 1
        }
        while j < count { buffer[j] = 0; j += 1 }
        return (x0 + x1) + (x2 + x3)
    }
}
