import AttnCore
import AttnKernels
import Foundation

/// Rows of exact attention for the sweep: which rows to check, and the row
/// itself, which is the yardstick's (`ReferenceAttention.row`).
public enum ExactRows {
    /// Output row i of softmax(s·QKᵀ)V (d_v values): `ReferenceAttention.row`.
    public static func row(_ i: Int, q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, scale s: Double)
        -> [Double]
    {
        ReferenceAttention.row(i, q: q, k: k, v: v, scale: s)
    }

    /// `count` distinct row indices of 0..<n in ascending order (all rows if
    /// count ≥ n), drawn with `rng`.
    public static func sample(_ count: Int, of n: Int, using rng: inout Xoshiro256StarStar) -> [Int] {
        if count >= n { return Array(0..<n) }
        var chosen = Set<Int>()
        while chosen.count < count { chosen.insert(rng.below(n)) }
        return chosen.sorted()
    }
}
