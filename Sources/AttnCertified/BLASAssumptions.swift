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
        return dot([1 + 0x1p-40], [1]) == 1 + 0x1p-40
            && dot([1, 0x1.8p-53], [1, 1]) == 1 + 0x1p-52
            && dot([1, 0x1p-53], [1, 1]) == 1
            && dot(long, [Double](repeating: 1, count: 64)) == 1
            && dot([0x1.fffffffffffffp0, 3], [0x1.fffffffffffffp0, -4])
                == (0x1.fffffffffffffp0 * 0x1.fffffffffffffp0 - 12)
    }()

    /// The BLAS library and core in use, as OpenBLAS reports them.
    package static var description: String {
        let core = openblas_get_corename().map { String(cString: $0) } ?? "?"
        let config = openblas_get_config().map { String(cString: $0) } ?? "?"
        return "OpenBLAS \(config), core \(core)"
    }
}
