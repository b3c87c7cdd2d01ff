import AttnCore
import CLapack

/// The package's one SVD (LAPACKE dgesdd, divide and conquer), with one error
/// policy: a factorisation that does not converge throws `AttnError.infeasible`
/// naming the size; a bad argument (info < 0) is a programming error and traps.
package enum SVD {
    /// Singular values of a `rows × cols` row-major matrix, descending.
    ///
    /// Read column-major, the buffer is Aᵀ (cols × rows), which has the same
    /// singular values; so LAPACK gets it without LAPACKE's row-major copy, and
    /// with jobz = N the unused U and Vᵀ take leading dimension 1 (which
    /// LAPACKE's row-major path rejects).
    package static func singularValues(_ a: [Double], rows: Int, cols: Int) throws -> [Double] {
        precondition(rows >= 1 && cols >= 1 && a.count == rows * cols, "matrix does not match its shape")
        try checkFinite(a, rows: rows, cols: cols)
        var copy = a
        var s = [Double](repeating: 0, count: min(rows, cols))
        var u = [Double](repeating: 0, count: 1), vt = [Double](repeating: 0, count: 1)
        let info = LAPACKE_dgesdd(
            LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int32(cols), Int32(rows),
            &copy, Int32(cols), &s, &u, 1, &vt, 1)
        try check(info, rows: rows, cols: cols)
        return s
    }

    /// The thin SVD A = U·diag(σ)·Vᵀ of a `rows × cols` row-major matrix, k = min(rows, cols):
    /// U is rows × k, Vᵀ is k × cols (both row-major), σ descending.
    package static func thin(_ a: [Double], rows: Int, cols: Int) throws -> (u: [Double], sigma: [Double], vt: [Double])
    {
        precondition(rows >= 1 && cols >= 1 && a.count == rows * cols, "matrix does not match its shape")
        try checkFinite(a, rows: rows, cols: cols)
        let k = min(rows, cols)
        var copy = a
        var s = [Double](repeating: 0, count: k)
        var u = [Double](repeating: 0, count: rows * k), vt = [Double](repeating: 0, count: k * cols)
        let info = LAPACKE_dgesdd(
            LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "S")), Int32(rows), Int32(cols),
            &copy, Int32(cols), &s, &u, Int32(k), &vt, Int32(cols))
        try check(info, rows: rows, cols: cols)
        return (u, s, vt)
    }

    /// A matrix with a NaN or ±∞ (scores beyond the Double range) is refused before LAPACK sees it:
    /// dgesdd reports it as an invalid argument, which is not the caller's programming error.
    static func checkFinite(_ a: [Double], rows: Int, cols: Int) throws {
        guard a.allSatisfy({ $0.isFinite }) else {
            throw AttnError.infeasible(
                "the \(rows)×\(cols) matrix to factor has entries beyond the Double range (exp of scores too large)")
        }
    }

    static func check(_ info: Int32, rows: Int, cols: Int) throws {
        precondition(info >= 0, "dgesdd: argument \(-info) is invalid")
        guard info == 0 else {
            throw AttnError.infeasible(
                "the SVD of a \(rows)×\(cols) matrix did not converge (LAPACK dgesdd info = \(info))")
        }
    }
}
