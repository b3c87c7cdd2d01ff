import AttnCore
import AttnKernels
import AttnTestSupport
import Foundation
import Testing

/// `BackwardErrorBound.fused` is reached: halving it fails (mutation row `backward`).
@Suite("Backward bound tightness (rounding staircase on dV)")
struct BackwardTightnessTests {
    /// The dV staircase (Proofs/backward-error.md, "Tightness"): Q = 0 makes every weight exactly
    /// 1/n_k = 1/2, so dV_0c = Σ_i ½·dO_ic. dO_0c = 1, and every later row holds t with ½t just above
    /// half an ulp of the running sum in [½, 1): a gemm that accumulates the rows in one chain rounds
    /// every step up, by ≈ u/2, so the error approaches the γ_N·P̄·Σ|dO| term of the bound. 128 rows: one
    /// query block, so one gemm call sums them (OpenBLAS adds a later call's block sum to dV in one rounding).
    static func staircase(rows n: Int, dv: Int) throws -> (error: Double, bound: Double) {
        let t = Float(0x1p-24 * (1 + 0x1p-10))
        let q = Tensor<Float>(rows: n, cols: 1)
        let k = Tensor<Float>(rows: 2, cols: 1), v = Tensor<Float>(rows: 2, cols: dv)
        var g = Tensor<Float>(rows: n, cols: dv, storage: [Float](repeating: t, count: n * dv))
        for c in 0..<dv { g[0, 0, c] = 1 }
        let problem = try AttentionTensors(q: q, k: k, v: v)
        let grads = try FusedBackward.compute(problem, dO: g, scale: .decimal("1"), threads: 1)
        let bound = BackwardErrorBound.fused(problem, dO: g, scale: .decimal("1"))
        var worst = 0.0
        for c in 0..<dv {
            let exact = 0.5 * (1 + Double(n - 1) * Double(t))  // exact in Float64
            worst = max(worst, abs(Double(grads.dv[0, 0, c]) - exact))
        }
        return (worst, bound.dv[head: 0, row: 0])
    }

    @Test("the dV staircase reaches more than half the bound (halving it fails)")
    func dvStaircase() throws {
        let (error, bound) = try Self.staircase(rows: FusedBackward.queryBlock, dv: 16)
        #expect(error <= bound)
        #expect(error >= requiredTightness * bound, "error \(error) is only \(error / bound) of the bound \(bound)")
        #expect(error > 0.5 * bound, "error \(error) is only \(error / bound) of the bound \(bound)")
        print("dV staircase: error/bound = \(error / bound)")
    }
}
