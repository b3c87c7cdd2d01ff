import CFloatEngine

/// exp in Float64 with a proved relative error bound, independent of libm.
///
/// **Guarantee** (Proofs/float-certified-engine.md, §3): for every double
/// `x` in `[−tailThreshold, 0]` and on every code path (`Path`), `FloatExp.exp(x)`
/// and each lane of `FloatExp.weights` is a normal double with
/// `|FloatExp.exp(x) − eˣ| ≤ relativeErrorBound · eˣ`, and `exp(0) == 1`
/// exactly. Tested against MPFR on every path the machine has in `FloatExpTests`.
///
/// Method: Cody–Waite range reduction `x = k·ln2 + r` with `ln2 = C1 + C2 + C3`,
/// `C1` carrying 32 significant bits (so `k·C1` is exact for |k| < 2¹¹), then
/// the degree-13 Taylor polynomial of eʳ on |r| ≤ 0.35 by Horner, then an
/// exact scaling by 2ᵏ (the result stays normal because x ≥ −700). One
/// implementation, in C (Sources/CFloatEngine, vectorised per ISA); the paths
/// differ only in fusing Horner's multiply-add, which §3 (c) allows.
package enum FloatExp {
    /// Arguments below −700 are the softmax "tail": their weight e^(t−m) ≤ 2⁻¹⁰⁰⁰ is
    /// handled as an absolute error, never by this function.
    package static let tailThreshold = -attnbound_fe_tail

    /// ε = 54·2⁻⁵³: Horner rounding γ₂₆·e^{2ρ} ≤ 52.4u, Taylor remainder ≤ 0.09u,
    /// rounded coefficients ≤ 0.02u, reduction error e^{0.75u} (§3 of the proof).
    package static let relativeErrorBound = 54 * 0x1p-53  // mutation-check: float-exp

    // ln 2 = C1 + C2 + C3: C1 = ⌊ln2·2³²⌋/2³², C2 = fl(ln2 − C1), |C3| < 2⁻⁸⁵ (checked with MPFR in the test).
    package static let c1 = attnbound_fe_c1
    package static let c2 = attnbound_fe_c2
    package static let invLn2 = attnbound_fe_inv_ln2

    /// 1/k! correctly rounded, k = 0…13, as the C code holds them.
    package static let coefficients: [Double] = (0...13).map { attnbound_fe_coefficient(Int32($0)) }

    /// The code paths of the C implementation. A path above the machine's runs the best one it has.
    package enum Path: Int32, CaseIterable, Sendable {
        /// Portable C, Horner unfused.
        case portable = 0
        /// AVX2 with FMA (4 lanes per half vector).
        case avx2 = 1
        /// AVX-512 (8 lanes).
        case avx512 = 2
    }

    /// The best path this machine runs (what the engine uses).
    package static let machinePath = Path(rawValue: attnbound_fe_isa()) ?? .portable

    /// eˣ for x ∈ [−700, 0] (see the type's guarantee). Outside that range the bound does not apply.
    @inline(__always) package static func exp(_ x: Double, path: Path = .avx512) -> Double {
        attnbound_fe_exp_on(path.rawValue, x)
    }

    /// max_j buffer[j] over `count ≥ 1` doubles, or NaN if any is NaN or ±∞.
    @inline(__always) package static func rowMax(_ buffer: UnsafePointer<Double>, count: Int, path: Path = .avx512)
        -> Double
    {
        attnbound_fe_row_max_on(path.rawValue, buffer, count)
    }

    /// In place over `buffer[0..<count]`: ĝ ↦ ŵ = exp(fl(fl(s·ĝ) − m)), or 0 when that
    /// exponent is < −700 (the tail), and 0 for `j ≥ visible` (masked).
    /// Returns X̂ = fl(Σ ŵ·|x̂|) over the bulk (in some order), the sum the score-error bound needs.
    /// - Precondition: m = fl(s·max_{j<visible} ĝ_j) (= max_j fl(s·ĝ_j): RN is monotone, s > 0).
    @inline(__always) package static func weights(
        _ buffer: UnsafeMutablePointer<Double>, count: Int, visible: Int,
        scale s: Double, max m: Double, path: Path = .avx512
    ) -> Double {
        attnbound_fe_weights_on(path.rawValue, buffer, visible, count, s, m)
    }

    /// `rowMax` over the keys with `mask[j] != 0`: −∞ if none, NaN if a visible one is NaN or ±∞.
    @inline(__always) package static func rowMax(
        _ buffer: UnsafePointer<Double>, mask: UnsafePointer<UInt8>, count: Int, path: Path = .avx512
    ) -> Double {
        attnbound_fe_row_max_masked_on(path.rawValue, buffer, mask, count)
    }

    /// `weights` under an explicit mask: keys with `mask[j] == 0` get ŵ = 0 and add nothing to X̂,
    /// whatever their score. - Precondition: m = fl(s·max ĝ_j) over the visible keys.
    @inline(__always) package static func weights(
        _ buffer: UnsafeMutablePointer<Double>, mask: UnsafePointer<UInt8>, count: Int,
        scale s: Double, max m: Double, path: Path = .avx512
    ) -> Double {
        attnbound_fe_weights_masked_on(path.rawValue, buffer, mask, count, s, m)
    }
}
