import AttnCertified
import AttnCore
import AttnTestSupport
import Foundation
import Testing

/// The float engine's radius e in the regime where it is tight (issue 11): a rounding staircase
/// (Proofs/float-certified-engine.md, "What the tests can and cannot kill").
///
/// d = 1, s = 1, every query q = 1. Key 0 has score 0, so its weight is exp(0) = 1 exactly, and value 1;
/// the other n_k − 1 keys share one score c whose weight ŵ = FloatExp.exp(c) lies just below u = 2⁻⁵³
/// (half an ulp of every running sum in [1, 2)) while ŵ·v lies just above it (`up`), or the reverse
/// (`down`). dgemm accumulates each of N̂ = Σŵv and L̂ = Σŵ as one FMA chain over the keys, so every
/// step rounds the numerator one way and the denominator the other: ô errs by ≈ 2(n_k − 1)u while the
/// truth stays within (n_k − 1)·2η·u of 1. That attains the 2γ_n/(1 − γ_n)·M_c term of e up to
/// (n_k − 1)/n_k; V's range R_c = 3η keeps R_c·ρ negligible.
///
/// The chain order is OpenBLAS's (SkylakeX dgemm, measured: one accumulator per output entry within
/// a K block of kc = 384 keys, in the 8-column panels of the output — so d_v + 2 = 16 here: columns in a
/// narrower edge panel are summed in another order). A BLAS that sums otherwise still satisfies e (any order is covered, §0), but
/// this test would then report a lower ratio and fail its tightness expectation rather than pass silently.
@Suite struct FloatEnclosureTightnessTests {
    static let eta = 0x1p-10

    static func staircase(up: Bool, nq: Int, nk: Int, dv: Int) throws -> (
        Tensor<Double>, Tensor<Double>, Tensor<Double>
    ) {
        let u = 0x1p-53
        let c = Foundation.log(u) + Foundation.log1p(up ? -eta : eta)
        let w = FloatExp.exp(c), v = up ? 1 + 3 * eta : 1 - 3 * eta
        // The products ŵ·v are exact inside an FMA, so these comparisons decide each rounding step.
        try #require(up ? (w < u && w * v > u) : (w > u && w * v < u), "ŵ = \(w / u)u, v = \(v)")
        let q = Tensor<Double>(rows: nq, cols: 1, storage: [Double](repeating: 1, count: nq))
        let k = Tensor<Double>(rows: nk, cols: 1, storage: [0] + [Double](repeating: c, count: nk - 1))
        let values = [Double](repeating: 1, count: dv) + [Double](repeating: v, count: (nk - 1) * dv)
        return (q, k, Tensor<Double>(rows: nk, cols: dv, storage: values))
    }

    /// Largest certified lower bound on |ô − O| over e, checked entrywise against GMP/MPFR.
    static func ratio(up: Bool, nq: Int = 8, nk: Int = 256, dv: Int = 14) throws -> Double {
        let (q, k, v) = try staircase(up: up, nq: nq, nk: nk, dv: dv)
        let scale = Scale.decimal("1")
        let engine = try FloatAttentionEngine(q: q, k: k, v: v, scale: scale, scoreModel: .plain)
        let exact = try CertifiedAttention.encloseRows(
            q: q, k: k, v: v, scale: scale, scoreModel: .plain, precision: 128,
            rows: (0..<nq).map { (0, $0) })
        var mid = [Double](repeating: 0, count: nq * dv), rad = mid
        engine.enclose(head: 0, rows: 0, count: nq, workspace: engine.makeWorkspace(), mid: &mid, radius: &rad)
        var worst = 0.0
        for i in 0..<nq {
            for c in 0..<dv {
                let (o, e, x) = (mid[i * dv + c], rad[i * dv + c], exact[i])
                let error = max(x.lo[c] - o, o - x.hi[c], 0)  // ≤ |ô − O| for every O in GMP's enclosure
                #expect(
                    BoundLedger.shared.within(.floatEngine, error: error, bound: e),
                    "\(up ? "up" : "down") row \(i) col \(c): |ô − O| ≥ \(error) > e = \(e)")
                worst = max(worst, error / e)
            }
        }
        print("tightness \(TrackedBound.floatEngine.rawValue) staircase \(up ? "up" : "down") n_k = \(nk): \(worst)")
        return worst
    }

    @Test("a rounding staircase brings the float engine's error within (n_k − 1)/n_k of e: halving e fails")
    func staircaseAttainsTheSumTerm() throws {
        let worst = max(try Self.ratio(up: true), try Self.ratio(up: false))
        #expect(worst >= requiredTightness)
    }
}
