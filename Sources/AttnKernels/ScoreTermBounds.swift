import AttnCore
import Foundation

/// The score terms' part of the a-priori forward bound (Proofs/score-terms-error.md): for row i of one
/// head, how far the computed score ŝ_ij = fl(softcap, + bias, − ALiBi) of the kernel can be from the
/// exact score_ij, given the bound M_i on |s·q_i·k_j| and the error g·M_i of the computed scaled dot
/// product, in a precision of unit roundoff u; and a bound M′_i on |score_ij| and on |σ| (the sink).
///
///   softcap c:  E ← E + u·M(1 + g) + c·(η_t + u(1 + η_t)),   M ← min(M(1 + g), c)·(1 + 2u)   (tanh is
///               1-Lipschitz; η_t = 4u: libm's tanh and tanhf are within 2 ulp)
///   bias b:     E ← E + u_b·B + u·(M + B)(1 + u),            M ← (M + B)(1 + u)²   (u_b = u for Float32,
///               where the Float64 bias is rounded; 0 for Float64)
///   ALiBi:      E ← E + (2⁻⁵³ + u)(1 + u)·A + u·(M + A)(1 + u)²,  M ← (M + A)(1 + u)²   (A = |slope|·max_j|i′ − j|)
///   sink σ:     M ← max(M, |σ|)
///
/// Used by every kernel bound (`ForwardErrorBound.rowBounds`); the reference's with u = 2⁻⁵³.
struct ScoreTermBounds {
    let model: ScoreModel
    let b: Int, h: Int, nq: Int, nk: Int, u: Double
    let sink: Double?
    let slope: Double
    /// max |bias| of the head when the bias does not vary with the row (nil: computed per row).
    let headBias: Double?
    /// No term at all: every row's (E, M′) is the dot product's (checked once, not per row).
    let plain: Bool

    init(_ model: ScoreModel, batch b: Int, head h: Int, queries nq: Int, keys nk: Int, unitRoundoff u: Double) {
        (self.model, self.b, self.h, self.nq, self.nk, self.u) = (model, b, h, nq, nk, u)
        sink = model.sink(batch: b, head: h)
        plain = model.softcap == nil && model.bias == nil && model.alibiSlopes == nil && sink == nil
        slope = model.alibiSlopes.map { abs($0[batch: b, head: h, row: 0, col: 0]) } ?? 0
        if let bias = model.bias, bias.axes[2] == 1 {
            headBias = (0..<nk).reduce(0.0) { max($0, abs(bias[batch: b, head: h, row: 0, col: $1])) }
        } else {
            headBias = nil
        }
    }

    /// (E_i, M′_i) for row i: the score error bound and the magnitude bound (scores and sink).
    func row(_ i: Int, dotBound M0: Double, dotError e0: Double) -> (error: Double, magnitude: Double) {
        // Plain scores: the bound of Proofs/online-softmax-error.md §1 unchanged.
        if plain { return (e0, M0) }
        var (e, M) = (e0, M0)
        if let c = model.softcap {
            let etaT = 4 * u
            e += u * M0 * (1 + e0 / max(M0, .leastNormalMagnitude)) + c * (etaT + u * (1 + etaT))
            M = min(M0 + e0, c) * (1 + 2 * u)
        } else {
            M = M0 + e0
        }
        if let bias = model.bias {
            let B = headBias ?? (0..<nk).reduce(0.0) { max($0, abs(bias[batch: b, head: h, row: i, col: $1])) }
            let ub = u > 0x1p-53 ? u : 0  // Float32 kernels round the Float64 bias
            e += ub * B + u * (M + B) * (1 + u)
            M = (M + B) * (1 + u) * (1 + u)
        }
        if model.alibiSlopes != nil {
            let di = model.mask.alignment.diagonal(row: i, queries: nq, keys: nk)
            let A = slope * Double(max(abs(di), abs(di - (nk - 1))))
            e += (0x1p-53 + u) * (1 + u) * A + u * (M + A) * (1 + u) * (1 + u)
            M = (M + A) * (1 + u) * (1 + u)
        }
        if let sink { M = max(M, abs(sink)) }
        return (e, M)
    }
}
