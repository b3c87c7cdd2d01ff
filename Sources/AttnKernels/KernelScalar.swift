import AttnCore
import CLapack
import CVectorMath
import Foundation

/// Scalars the fast kernels run in: Float and Double, each with its BLAS gemm
/// and a vectorised exp.
public protocol KernelScalar: AttnScalar {
    /// C ← alpha·op(A)·op(B) + beta·C, row-major, as CBLAS (gemv when m = 1).
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// Replaces each `x[i]` by exp(x[i] − shift) and returns Σ of the results.
    ///
    /// Requires `x[i] − shift ≤ 0` or `x[i] = −∞` (then the result is exactly 0).
    /// Error bound: relative error ≤ `expRelativeError` for arguments ≥ −87.33 (Float) or
    /// ≥ −708 (Double, where results are still normal). Below that, Float results are
    /// flushed to 0 (the C kernel in Sources/CVectorMath; absolute error < 2^-125) and
    /// Double results are glibc's subnormals or 0 (absolute error < 2^-1021; the fused
    /// kernel's Float64 exp flushes them to 0).
    /// Proof: Proofs/online-softmax-error.md.
    static func expShiftedSum(_ x: UnsafeMutablePointer<Self>, count: Int, shift: Self) -> Self

    /// Bound on the relative error of the vectorised exp (see `expShiftedSum`).
    static var expRelativeError: Double { get }

    /// max of `x[0..<count]` (−∞ when empty).
    static func maximum(_ x: UnsafePointer<Self>, count: Int) -> Self

    /// Runs one job of the fused exact kernel in this precision (Sources/CVectorMath/fused_attention.c).
    static func fusedAttention(_ job: UnsafePointer<attnbound_fused_job>)

    /// The fused kernel's register-tile engine (`TileEngine`): begin a job, run one key range, finish it.
    static func tileBegin(_ job: UnsafePointer<attnbound_fused_job>)
    static func tileRange(_ job: UnsafePointer<attnbound_fused_job>, keys: Range<Int>, level: Bool) -> Self
    static func tileFinish(_ job: UnsafePointer<attnbound_fused_job>)

    /// Packs key tiles `tiles` of one head's K (keys × d) as Kᵀ for the kernel copy `isa` (exact copies).
    static func packKeys(
        isa: KernelISA, k: UnsafePointer<Self>, keys: Int, d: Int, tiles: Range<Int>,
        into out: UnsafeMutablePointer<Self>)
}

extension Float: KernelScalar {
    @inlinable
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 1 {
            // One row (decode): y = op(B)ᵀ·a is a matrix–vector product; gemv
            // streams B once where gemm would pack it first.
            cblas_sgemv(
                CblasRowMajor, transB ? CblasNoTrans : CblasTrans, blasint(transB ? n : k), blasint(transB ? k : n),
                alpha, b, blasint(ldb), a, blasint(transA ? lda : 1), beta, c, 1)
            return
        }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Cephes-style expf in C (Sources/CVectorMath), compiled per ISA and chosen at load time.
    /// Exhaustively measured on every float in [−87.3, 0): worst 2^-23.51 (1.41 ulp)
    /// (scripts/check-exp-exhaustive.sh; sampled again by test `vectorExpFloatUlps`). We use 2⁻²¹.
    public static var expRelativeError: Double { 0x1p-21 }

    public static func expShiftedSum(_ x: UnsafeMutablePointer<Float>, count: Int, shift: Float) -> Float {
        attnbound_exp_shifted_sum_f32(x, count, shift)
    }

    public static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        attnbound_max_f32(x, count)
    }

    public static func fusedAttention(_ job: UnsafePointer<attnbound_fused_job>) { attnbound_fused_f32(job) }

    public static func tileBegin(_ job: UnsafePointer<attnbound_fused_job>) { attnbound_fused_begin_f32(job) }

    public static func tileRange(_ job: UnsafePointer<attnbound_fused_job>, keys: Range<Int>, level: Bool) -> Float {
        attnbound_fused_range_f32(job, keys.lowerBound, keys.upperBound, level ? 1 : 0)
    }

    public static func tileFinish(_ job: UnsafePointer<attnbound_fused_job>) { attnbound_fused_finish_f32(job) }

    public static func packKeys(
        isa: KernelISA, k: UnsafePointer<Float>, keys: Int, d: Int, tiles: Range<Int>,
        into out: UnsafeMutablePointer<Float>
    ) {
        attnbound_fused_pack_k_f32(isa.rawValue, k, keys, d, tiles.lowerBound, tiles.upperBound, out)
    }
}

extension Double: KernelScalar {
    @inlinable
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        if m == 1 {
            cblas_dgemv(
                CblasRowMajor, transB ? CblasNoTrans : CblasTrans, blasint(transB ? n : k), blasint(transB ? k : n),
                alpha, b, blasint(ldb), a, blasint(transA ? lda : 1), beta, c, 1)
            return
        }
        cblas_dgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// η = 3u = 1.5·2⁻⁵²: bounds both Float64 exps the kernels call on arguments in [−708, 0].
    /// The fused kernel's own (Cody–Waite, degree-13 Taylor polynomial, in every ISA copy of
    /// Sources/CVectorMath/fused_kernel.inc) is *proved* within 2.16u (Proofs/online-softmax-error.md,
    /// "The Float64 exp"; the sum is recomputed with MPFR by `KernelScalarTests.float64ExpConstants`,
    /// and measured, worst ≈ 1.4u, by `KernelScalarTests.vectorExpDoubleUlps`); glibc's `exp`
    /// (`expShiftedSum`, the rescales) is documented < 1 ulp ≤ 2u.
    public static var expRelativeError: Double { 0x1.8p-52 }  // mutation-check: exp64

    public static func expShiftedSum(_ x: UnsafeMutablePointer<Double>, count: Int, shift: Double) -> Double {
        var s = 0.0
        for i in 0..<count {
            let e = Foundation.exp(x[i] - shift)
            x[i] = e
            s += e
        }
        return s
    }

    public static func maximum(_ x: UnsafePointer<Double>, count: Int) -> Double {
        var m = -Double.infinity
        for i in 0..<count where x[i] > m { m = x[i] }
        return m
    }

    public static func fusedAttention(_ job: UnsafePointer<attnbound_fused_job>) { attnbound_fused_f64(job) }

    public static func tileBegin(_ job: UnsafePointer<attnbound_fused_job>) { attnbound_fused_begin_f64(job) }

    public static func tileRange(_ job: UnsafePointer<attnbound_fused_job>, keys: Range<Int>, level: Bool) -> Double {
        attnbound_fused_range_f64(job, keys.lowerBound, keys.upperBound, level ? 1 : 0)
    }

    public static func tileFinish(_ job: UnsafePointer<attnbound_fused_job>) { attnbound_fused_finish_f64(job) }

    public static func packKeys(
        isa: KernelISA, k: UnsafePointer<Double>, keys: Int, d: Int, tiles: Range<Int>,
        into out: UnsafeMutablePointer<Double>
    ) {
        attnbound_fused_pack_k_f64(isa.rawValue, k, keys, d, tiles.lowerBound, tiles.upperBound, out)
    }
}
