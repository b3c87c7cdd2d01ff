import AttnCore
import CLapack
import Foundation

/// Scalars the fast kernels run in: Float and Double, each with its BLAS gemm
/// and a vectorised exp.
public protocol KernelScalar: AttnScalar {
    /// C ← alpha·op(A)·op(B) + beta·C, row-major, as CBLAS.
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// Replaces each `x[i]` by exp(x[i] − shift) and returns Σ of the results.
    ///
    /// Requires `x[i] − shift ≤ 0` or `x[i] = −∞` (then the result is exactly 0).
    /// Error bound: relative error ≤ `expRelativeError` for arguments ≥ `expFlushBelow`;
    /// results for smaller arguments are flushed to 0 (absolute error < 2^-125
    /// for Float, < 2^-1021 for Double). Proof: Proofs/online-softmax-error.md.
    static func expShiftedSum(_ x: UnsafeMutablePointer<Self>, count: Int, shift: Self) -> Self

    /// Bound on the relative error of the vectorised exp (see `expShiftedSum`).
    static var expRelativeError: Double { get }
}

extension Float: KernelScalar {
    @inlinable
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Cephes-style expf: k = round(x·log₂e), r = x − k·ln2 (two-part ln2),
    /// degree-7 polynomial, scaled by 2ᵏ through the exponent bits.
    /// Measured: ≤ 2 ulp on [−87.3, 0] (test `vectorExpFloatUlps`); we use 2⁻²¹ (8 ulp) as the bound.
    public static var expRelativeError: Double { 0x1p-21 }

    public static func expShiftedSum(_ x: UnsafeMutablePointer<Float>, count: Int, shift: Float) -> Float {
        typealias V = SIMD16<Float>
        var acc = V(repeating: 0)
        var i = 0
        while i + 16 <= count {
            let raw = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            let e = VectorExp.exp(raw - shift)
            UnsafeMutableRawPointer(x + i).storeBytes(of: e, as: V.self)
            acc += e
            i += 16
        }
        var tail: Float = 0
        if i < count {
            var v = V(repeating: -.infinity)
            for j in 0..<(count - i) { v[j] = x[i + j] }
            let e = VectorExp.exp(v - shift)
            for j in 0..<(count - i) { x[i + j] = e[j]; tail += e[j] }
        }
        return acc.sum() + tail
    }
}

extension Double: KernelScalar {
    @inlinable
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// glibc's exp is correctly rounded in practice and documented < 1 ulp; we use 2u.
    public static var expRelativeError: Double { 0x1p-52 }

    public static func expShiftedSum(_ x: UnsafeMutablePointer<Double>, count: Int, shift: Double) -> Double {
        var s = 0.0
        for i in 0..<count {
            let e = Foundation.exp(x[i] - shift)
            x[i] = e
            s += e
        }
        return s
    }
}

/// Vectorised exp for Float, on SIMD16 lanes.
public enum VectorExp {
    /// exp(x) for x ≤ 0 (also correct for small positive x); −∞ and x < −87.33 give 0.
    @inlinable @inline(__always)
    public static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let flush = x .< SIMD16<Float>(repeating: -87.33)
        let xc = x.replacing(with: -87.33, where: flush)
        // Round x·log₂e to an integer by adding 1.5·2²³ (the add rounds to
        // nearest); the integer then sits in the low mantissa bits. This avoids
        // float→int conversions, which baseline x86-64 scalarises.
        let magic: Float = 12_582_912
        let t = xc * 1.442_695_04 + magic
        let k = t - magic
        let r = (xc - k * 0.693_359_375) - k * (-2.121_944_4e-4)
        var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * (r * r) + r + 1
        // k is an integer in [−126, 1]: build 2ᵏ from its exponent bits.
        let ki = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((ki &+ 127) &<< 23, to: SIMD16<Float>.self)
        return (p * scale).replacing(with: 0, where: flush)
    }
}
