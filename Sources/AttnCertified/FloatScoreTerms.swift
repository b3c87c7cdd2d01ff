import AttnCore
import CFloatEngine

/// The float engine's score terms (softcap, bias, ALiBi) with a proved per-key error bound, and the
/// weights of a row of such scores (Proofs/float-certified-engine.md §7).
///
/// **Guarantee** (§7, Lemma S): for a key j with dot product ĝ_j = fl(⟨q_i, k_j⟩) and exact score
/// score_ij = softcap_c(s·⟨q_i, k_j⟩) + bias_ij − slope·|i′ − j|, `scores` writes a double τ̂_j and a
/// double Δ̂_j with |τ̂_j − score_ij| ≤ Δ̂_j·(1 + 2⁻⁴⁰) for every finite input (Δ̂_j = +∞ or NaN where
/// it cannot bound it: the row is then undecided). tanh is FloatExp's (libm is never called):
/// tanh|z| = (1 − e^{−2|z|})/(1 + e^{−2|z|}), evaluated with a proved absolute error
/// `tanhRelative`·|T̂| + `tanhAbsolute`·min(Ê, 1/4). Scores saturated by the softcap (|a| ≥ 350c for
/// certain) are c·sign(a) within c·2⁻¹⁰⁰⁸, so huge scores and tiny c stay decided.
/// Tested against MPFR in `FloatScoreTermsTests` (every path, huge scores, tiny c, steep slopes), and
/// each rounding term is attained there to within a few ulps of the bound.
package enum FloatScoreTerms {
    typealias D = Directed
    /// a = u/(1 − u), rounded up: |x − fl(x)| ≤ u|fl(x)| ≤ a|fl(x)| for every rounding in §7.
    package static let a = D.div(Directed.u, D.subDown(1, Directed.u))
    /// γ₃/(1 − γ₃) (three roundings in T̂ = fl(fl(1 − Ê)/fl(1 + Ê))), rounded up.
    package static let tanhRelative: Double = {
        let g3 = D.gamma(3)
        return D.div(g3, D.subDown(1, g3))
    }()
    /// 2ε(1 + 3ε)/(1 − ε) with ε = FloatExp's bound: |f(Ê) − f(E)| for f(E) = (1 − E)/(1 + E) (§7 (b)).
    package static let tanhAbsolute: Double = {
        let eps = FloatExp.relativeErrorBound
        return D.div(D.mul(D.mul(2, eps), D.add(1, D.mul(3, eps))), D.subDown(1, eps))  // mutation-check: float-softcap
    }()

    /// The row constants of one call (the C struct), without pointers.
    package struct Row {
        /// ŝ and |â − a| ≤ b|â| + zq·‖k_j‖ + c0 (§4).
        package var s: Double, b: Double, zq: Double, c0: Double
        /// The softcap c, the ALiBi slope (nil: none) and i′ minus the first key's index.
        package var cap: Double?, slope: Double?, diag: Double
        package init(s: Double, b: Double, zq: Double, c0: Double, cap: Double?, slope: Double?, diag: Double) {
            (self.s, self.b, self.zq, self.c0, self.cap, self.slope, self.diag) = (s, b, zq, c0, cap, slope, diag)
        }
    }

    /// In place over `row[0..<count]` (ĝ): row[j] = τ̂_j and delta[j] = Δ̂_j (Lemma S); hidden keys
    /// (`mask[j] == 0`) get 0 and 0. `bias`: the bias of key j at bias[j·biasStride], or nil.
    /// `kNorm`: upper bounds on ‖k_j‖.
    @inline(__always) package static func scores(
        _ row: UnsafeMutablePointer<Double>, delta: UnsafeMutablePointer<Double>, mask: UnsafePointer<UInt8>?,
        count: Int, _ r: Row, bias: UnsafePointer<Double>?, biasStride: Int, kNorm: UnsafePointer<Double>,
        path: FloatExp.Path = .avx512
    ) {
        var p = attnbound_fe_terms(
            s: r.s, b: r.b, zq: r.zq, c0: r.c0, cap: r.cap ?? 0, slope: r.slope ?? 0, diag: r.diag,
            alibi: r.slope == nil ? 0 : 1, bias: bias, bias_stride: biasStride, knorm: kNorm,
            a: a, k1: tanhRelative, k2: tanhAbsolute)
        attnbound_fe_scores_on(path.rawValue, row, delta, mask, count, &p)
    }

    /// What `weights` returns: X̂ = fl(Σ_bulk ŵ|x̂|), D̂ = fl(Σ_bulk ŵΔ̂) (sums of ≤ count products in
    /// some order, §0), the largest Δ̂ of the bulk, and whether every tail key passed its check.
    package struct Sums { package var x: Double, d: Double, deltaMax: Double, tailOK: Bool }

    /// In place: τ̂_j ↦ ŵ_j = FloatExp(fl(τ̂_j − M)), 0 for the tail (< −700) and hidden keys.
    /// - Precondition: M ≥ every visible τ̂_j.
    @inline(__always) package static func weights(
        _ row: UnsafeMutablePointer<Double>, delta: UnsafePointer<Double>, mask: UnsafePointer<UInt8>?,
        count: Int, shift M: Double, path: FloatExp.Path = .avx512
    ) -> Sums {
        var out = (0.0, 0.0, 0.0)
        let flag = withUnsafeMutablePointer(to: &out) {
            $0.withMemoryRebound(to: Double.self, capacity: 3) {
                attnbound_fe_weights_terms_on(path.rawValue, row, delta, mask, count, M, $0)
            }
        }
        return Sums(x: out.0, d: out.1, deltaMax: out.2, tailOK: flag == 0)
    }
}
