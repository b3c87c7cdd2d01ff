import AttnCore
import Foundation

/// The rounding staircase (issue 11): an attention row on which every addition of the long sums
/// rounds the same way, so that a kernel's error grows like n·u, the order its a-priori bound
/// charges (`ForwardErrorBound`; Proofs/online-softmax-error.md, "How tight").
///
/// One head, d = 1, scale 1, every q = 1: each score equals its key exactly (one product
/// by 1, no sum), so the exponent errors vanish and only the sums' roundings remain.
/// * Key 0 has k = 0: it is the row max, and its weight is exp(0) = 1 exactly.
/// * Keys 1…n−1 have k = κ = ln((1 − 2⁻⁹)·u) rounded to T, so their weight x = e^κ lies just below u,
///   half an ulp of 1 (u = `unitRoundoff`, the precision the kernel sums in; the margin 2⁻⁹ is far
///   above exp's error and the rounding of κ).
/// * Every value is c = 1 + 2⁻⁷ (`value`): the exact output is c whatever the weights (`exactOutput`).
///
/// Why each rounding goes one way, for sums that run left to right from key 0:
/// * denominator: l = 1 exactly after key 0; l + x with x < u, half an ulp of l ∈ [1, 2), rounds
///   back to l. So l̂ = 1 while l = 1 + (n − 1)x: a relative error of −(n − 1)x ≈ −(n − 1)u.
/// * numerator: N = c after key 0; N + c·x with c·x ∈ (u, 2u) (c·x ≈ (1 + 2⁻⁸)u, also after the
///   rounding of the product in a non-FMA copy) rounds *up* to N + 2u, the next float (ulp 2u on
///   [1, 2)): each step gains 2u − c·x ≈ 0.994u, and N stays in [1, 2) while n·u < 1/2.
/// A kernel that sums both left to right (`ReferenceAttention`) returns c + 2(n − 1)u exactly; one
/// that sums the numerator left to right but the denominator in lanes or tiles (the fused kernel,
/// `OnlineSoftmaxAccumulator`) loses only the lanes' and tiles' share of the denominator's steps,
/// as its bound's separate depth for l says. Used for Float (u = 2⁻²⁴) and Double (u = 2⁻⁵³); a
/// Float tensor can carry the Double staircase (κ rounded to Float moves x by < 2⁻¹⁸ relative).
public struct RoundingStaircase: Sendable, CustomStringConvertible {
    /// Query rows (all equal), keys and value columns (all equal).
    public var rows: Int, keys: Int, valueCols: Int
    /// The unit roundoff of the arithmetic the staircase is aligned to.
    public var unitRoundoff: Double

    public static let value = 1 + 0x1p-7
    public var exactOutput: Double { Self.value }
    public var scale: Scale { .decimal("1") }

    public init(rows: Int = 1, keys: Int, valueCols: Int = 1, unitRoundoff: Double) {
        precondition(keys >= 2 && Double(keys) * unitRoundoff < 0.25, "the numerator must stay in [1, 2)")
        self.rows = rows; self.keys = keys; self.valueCols = valueCols; self.unitRoundoff = unitRoundoff
    }

    /// The score of keys 1…n−1 before rounding to T: ln((1 − 2⁻⁹)·u).
    public var offScore: Double { log((1 - 0x1p-9) * unitRoundoff) }

    public var description: String {
        "staircase rows=\(rows) keys=\(keys) dv=\(valueCols) u=2^\(Int(log2(unitRoundoff)))"
    }

    public func tensors<T: AttnScalar>(_: T.Type = T.self) -> (q: Tensor<T>, k: Tensor<T>, v: Tensor<T>) {
        let q = Tensor<T>(heads: 1, rows: rows, cols: 1, storage: [T](repeating: 1, count: rows))
        var ks = [T](repeating: T(offScore), count: keys)
        ks[0] = 0
        let k = Tensor<T>(heads: 1, rows: keys, cols: 1, storage: ks)
        let v = Tensor<T>(
            heads: 1, rows: keys, cols: valueCols, storage: [T](repeating: T(Self.value), count: keys * valueCols))
        return (q, k, v)
    }
}
