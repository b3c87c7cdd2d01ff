import CLapack

/// The BLAS assumptions of the float engine (Proofs/float-certified-engine.md, §0),
/// checked at run time: dgemm works in IEEE binary64 with round to nearest, so
/// every entry is a sum of the products with each operation rounded once (FMA allowed).
package enum BLASAssumptions {
    /// True when dgemm passes probes that any reduced-precision path (float32,
    /// bfloat16, "fast" modes) or a non-nearest rounding would fail:
    /// (1 + 2⁻⁴⁰)·1 must stay exact; 1 + 1.5·2⁻⁵³ must round up to 1 + 2⁻⁵²;
    /// 1 + 2⁻⁵³ must tie to even (1), and every product of 52-bit operands sums exactly
    /// when the sum is representable (a 64-length dot of halves of a power of two).
    package static let hold: Bool = {
        func dot(_ a: [Double], _ b: [Double]) -> Double {
            var c = 0.0
            cblas_dgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, 1, 1, Int32(a.count), 1, a, Int32(a.count),
                b, Int32(b.count), 0, &c, 1)
            return c
        }
        let long = [Double](repeating: 0x1p-6, count: 64)
        return dot([1 + 0x1p-40], [1]) == 1 + 0x1p-40 && blockedAndSubnormal
            && dot([1, 0x1.8p-53], [1, 1]) == 1 + 0x1p-52
            && dot([1, 0x1p-53], [1, 1]) == 1
            && dot(long, [Double](repeating: 1, count: 64)) == 1
            && dot([0x1.fffffffffffffp0, 3], [0x1.fffffffffffffp0, -4])
                == (0x1.fffffffffffffp0 * 0x1.fffffffffffffp0 - 12)
    }()

    /// The shapes the float engine calls dgemm with (issue 23): a row block of up to 256 rows against
    /// hundreds of keys, K = d or n_k in the hundreds, so OpenBLAS takes its blocked, packed path; every
    /// entry must be exact where the exact sum is representable ((1 + 2⁻⁴⁰)·K in 53 bits: a float32 or
    /// bfloat16 path fails). And gradual underflow, which the proof's η terms assume: products below 2⁻¹⁰²²
    /// must stay subnormal (no flush to zero, FTZ), and subnormal operands must be used (no DAZ).
    static var blockedAndSubnormal: Bool {
        func gemm(m: Int, n: Int, k: Int, a: Double, b: Double) -> [Double] {
            let x = [Double](repeating: a, count: m * k), y = [Double](repeating: b, count: k * n)
            var c = [Double](repeating: -1, count: m * n)
            cblas_dgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, x, Int32(k), y, Int32(n), 0,
                &c, Int32(n))
            return c
        }
        let blocked = gemm(m: 256, n: 300, k: 200, a: 1 + 0x1p-40, b: 1).allSatisfy { $0 == 200 * (1 + 0x1p-40) }
        let wide = gemm(m: 64, n: 70, k: 520, a: 0x1p-6, b: 1 + 0x1p-30).allSatisfy {
            $0 == 520 * 0x1p-6 * (1 + 0x1p-30)
        }
        let ftz = gemm(m: 64, n: 64, k: 64, a: 0x1p-1040, b: 0x1p-30).allSatisfy { $0 == 0x1p-1064 }
        let daz = gemm(m: 64, n: 64, k: 64, a: 0x1p-1070, b: 2).allSatisfy { $0 == 0x1p-1063 }
        return blocked && wide && ftz && daz
    }

    /// The BLAS library and core in use, as OpenBLAS reports them.
    package static var description: String {
        let core = openblas_get_corename().map { String(cString: $0) } ?? "?"
        let config = openblas_get_config().map { String(cString: $0) } ?? "?"
        return "OpenBLAS \(config), core \(core)"
    }
}
