import AttnCore
import Foundation

/// Exact attention one row at a time: row i costs O(n·(d + d_v)), so large n
/// can be checked on a sample of rows without ever forming the n×n matrix.
///
/// Computed in Float64 with the row max subtracted before exp (overflow-safe
/// for any B), sums left to right. Its rounding error, about (n + d)·u·‖V‖∞
/// with u = 2⁻⁵³, is negligible next to the errors the sweep measures.
public enum ExactRows {
    /// Output row i of softmax(s·QKᵀ)V (d_v values).
    public static func row(_ i: Int, q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, scale s: Double) -> [Double] {
        let d = q.cols, dv = v.cols, nk = k.rows
        var score = [Double](repeating: 0, count: nk)
        var m = -Double.infinity
        q.storage.withUnsafeBufferPointer { qs in
            k.storage.withUnsafeBufferPointer { ks in
                let qi = i * d
                for j in 0..<nk {
                    var dot = 0.0
                    for c in 0..<d { dot += qs[qi + c] * ks[j * d + c] }
                    score[j] = s * dot
                    m = Swift.max(m, score[j])
                }
            }
        }
        var l = 0.0
        var out = [Double](repeating: 0, count: dv)
        for j in 0..<nk {
            let w = exp(score[j] - m)
            l += w
            for c in 0..<dv { out[c] += w * v.storage[j * dv + c] }
        }
        for c in 0..<dv { out[c] /= l }
        return out
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
