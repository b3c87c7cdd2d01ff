import AttnCore
import AttnKernels
import Foundation

/// Truncated SVD of A (LAPACKE dgesdd): by Eckart–Young the best rank-r
/// approximation in the spectral and Frobenius norms. Forms A explicitly,
/// so it is for small n only (`maxEntries`).
///
/// A is scaled by e^{−m}, m = max score, before the SVD (a common factor
/// changes neither the optimal subspace nor relative errors).
public enum SVDBaseline {
    /// Largest n_q·n_k accepted (an n² matrix and its SVD).
    public static let maxEntries = 4096 * 4096

    /// Singular values of A' = e^{−m}·A, descending, and the shift m.
    public static func singularValues(scores x: [Double], rows: Int, keys: Int) throws -> (
        sigma: [Double], shift: Double
    ) {
        let (a, m) = scaledMatrix(x)
        return (try singularValues(matrix: a, rows: rows, cols: keys), m)
    }

    /// Singular values of a rows × cols row-major matrix, descending (`SVD.singularValues`).
    public static func singularValues(matrix a: [Double], rows: Int, cols keys: Int) throws -> [Double] {
        try SVD.singularValues(a, rows: rows, cols: keys)
    }

    /// The rank-r truncated SVD as factors (r is capped at min(n_q, n_k)).
    /// - Throws: `AttnError.infeasible` beyond `maxEntries` or if LAPACK fails.
    public static func factors(scores x: [Double], rows: Int, keys: Int, rank r: Int) throws -> (
        LowRankFactors, sigma: [Double]
    ) {
        guard rows * keys <= maxEntries else {
            throw AttnError.infeasible("svd baseline: n_q·n_k = \(rows * keys) exceeds \(maxEntries) (it forms A)")
        }
        let (a, m) = scaledMatrix(x)
        let k = min(rows, keys)
        let (u, s, vt) = try SVD.thin(a, rows: rows, cols: keys)
        let rr = min(r, k)
        var left = [Double](repeating: 0, count: rows * rr), right = [Double](repeating: 0, count: keys * rr)
        for i in 0..<rows { for c in 0..<rr { left[i * rr + c] = u[i * k + c] * s[c] } }
        for j in 0..<keys { for c in 0..<rr { right[j * rr + c] = vt[c * keys + j] } }
        let f = LowRankFactors(
            rows: rows, keys: keys, rank: rr, left: left, right: right,
            leftLogScale: [Double](repeating: m, count: rows))
        return (f, s)
    }

    static func scaledMatrix(_ x: [Double]) -> ([Double], Double) {
        let m = x.max() ?? 0
        return (x.map { Foundation.exp($0 - m) }, m)
    }
}
