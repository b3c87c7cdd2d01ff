/// NaN/Inf scans of IEEE binary32/binary64 bit patterns: x is finite iff its bits without the sign are
/// below the all-ones exponent (0x7f80_0000, 0x7ff0…0). Integer maxima are associative, so the
/// compiler vectorises these loops (unlike a floating-point sum, whose order it must keep); they run
/// at memory bandwidth. Used by `Tensor.isFinite` and by the .npy reader as it decodes.
public enum FiniteScan {
    /// True when every pattern in `b` is a finite binary32.
    @inlinable public static func finite32(_ b: UnsafeBufferPointer<UInt32>) -> Bool {
        var m0: UInt32 = 0, m1: UInt32 = 0, m2: UInt32 = 0, m3: UInt32 = 0
        let n = b.count
        var i = 0
        while i + 4 <= n {
            m0 = max(m0, b[i] & 0x7fff_ffff); m1 = max(m1, b[i + 1] & 0x7fff_ffff)
            m2 = max(m2, b[i + 2] & 0x7fff_ffff); m3 = max(m3, b[i + 3] & 0x7fff_ffff)
            i += 4
        }
        while i < n { m0 = max(m0, b[i] & 0x7fff_ffff); i += 1 }
        return max(max(m0, m1), max(m2, m3)) < 0x7f80_0000
    }

    /// True when every pattern in `b` is a finite binary64.
    @inlinable public static func finite64(_ b: UnsafeBufferPointer<UInt64>) -> Bool {
        var m0: UInt64 = 0, m1: UInt64 = 0
        let n = b.count
        var i = 0
        while i + 2 <= n {
            m0 = max(m0, b[i] & 0x7fff_ffff_ffff_ffff); m1 = max(m1, b[i + 1] & 0x7fff_ffff_ffff_ffff)
            i += 2
        }
        while i < n { m0 = max(m0, b[i] & 0x7fff_ffff_ffff_ffff); i += 1 }
        return max(m0, m1) < 0x7ff0_0000_0000_0000
    }
}
