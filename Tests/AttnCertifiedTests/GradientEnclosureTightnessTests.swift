import AttnCertified
import AttnCore
import AttnTestSupport
import Foundation
import Testing

/// The float gradient engine's radius in the regime where it is tight: a rounding staircase in dV's
/// sum over the query rows (Proofs/backward-error.md, "The certified engines: tightness").
///
/// d = 1 and every query is 0, so every score is 0, every weight exp(0) = 1 exactly and, with n_k = 8
/// keys, every P_ij = 1/8 exactly. dV = Pᵀ·dO sums N = 256 query rows (one row block, so one dgemm call
/// and one FMA chain per output entry): row 0 of dO is 1, the other N − 1 rows are w just below u = 2⁻⁵³.
/// Each term w/8 is below half an ulp of the running sum 1/8, so every step rounds down and the computed
/// dV is 1/8 while the truth is (1 + (N − 1)w)/8. The radius is (1/8)(ε + γ_N + …)·Σ_i|dO_ic| with ε ≈
/// 2η ≈ 108u (FloatExp's η = 54u counts even where exp is exact), so the error reaches
/// (N − 1)/(N + ε/u) ≈ 0.68 of it: halving the radius leaves the truth outside the enclosure.
///
/// The chain order is OpenBLAS's (one accumulator per output entry within a K block of kc ≥ 256 rows,
/// measured on SkylakeX and Haswell kernels). A BLAS that sums otherwise still satisfies the radius (any
/// order is covered), but this test then reports a lower ratio and fails its tightness expectation.
@Suite struct GradientEnclosureTightnessTests {
    /// Largest certified lower bound on |dV̂ − dV| over the float engine's radius, every entry checked
    /// against the GMP/MPFR engine.
    static func ratio(nq: Int = 256, nk: Int = 8, dv: Int) throws -> Double {
        let w = 0x1p-53 * (1 - 0x1p-10)
        let q = Tensor<Double>(rows: nq, cols: 1, storage: [Double](repeating: 0, count: nq))
        let k = Tensor<Double>(rows: nk, cols: 1, storage: (0..<nk).map { Double($0) })
        let v = Tensor<Double>(rows: nk, cols: dv, storage: [Double](repeating: 1, count: nk * dv))
        let dO = Tensor<Double>(
            rows: nq, cols: dv,
            storage: [Double](repeating: 1, count: dv) + [Double](repeating: w, count: (nq - 1) * dv))
        let shape = try AttentionShape(q: q, k: k, v: v)
        let mask = try GradientMask(.plain, shape)
        let float = try FloatGradientEngine.enclose(
            q: q, k: k, v: v, dO: dO, shape: shape, scale: .decimal("1"), mask: mask, threads: 1)
        let exact = try MPFRGradientEngine.enclose(
            q: q, k: k, v: v, dO: dO, shape: shape, scale: .decimal("1"), mask: mask, precision: 128,
            rows: [.dv: (0..<nk).map { MPFRGradientEngine.Row(head: 0, row: $0) }])
        let (lo, hi) = (float.lo[.dv]!, float.hi[.dv]!)
        var worst = 0.0
        for (j, x) in exact[.dv]!.enumerated() {
            for c in 0..<dv {
                let (l, h) = (lo[0, j, c], hi[0, j, c])
                let mid = l / 2 + h / 2, radius = h - mid
                let error = max(x.lo[c] - mid, mid - x.hi[c], 0)  // ≤ |dV̂ − dV| for every dV in MPFR's enclosure
                #expect(
                    l <= x.lo[c] && x.hi[c] <= h
                        && BoundLedger.shared.within(.floatGradientEngine, error: error, bound: radius),
                    "dV[\(j), \(c)]: float [\(l), \(h)] does not contain MPFR's [\(x.lo[c]), \(x.hi[c])]")
                worst = max(worst, error / radius)
            }
        }
        print("tightness \(TrackedBound.floatGradientEngine.rawValue) dV staircase N = \(nq), d_v = \(dv): \(worst)")
        return worst
    }

    @Test("a rounding staircase in dV's row sum brings the error above half the radius: halving it fails")
    func staircaseAttainsTheRowSumTerm() throws {
        let worst = max(try Self.ratio(dv: 8), try Self.ratio(dv: 14))
        #expect(worst >= max(requiredTightness, 0.5), "the staircase no longer reaches the radius")
    }
}
