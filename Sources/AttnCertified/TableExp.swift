import CGMP
import Synchronization

/// Tables of exp(−c·2^(8i)) (i = 0, 1: the integer part of the argument)
/// and exp(−c·2^(−8k)) (k = 1…2L: its top 16L fraction bits), c = 1…255, each rounded
/// down to an L-limb binary fraction (value = integer / 2^(64L)).
///
/// Guarantee: every entry ẽ satisfies e − 2^(1−64L) < ẽ ≤ e for the exact
/// value e (MPFR exp rounded down at 64L + 16 bits, then floored).
/// Immutable once built; shared per L through `shared(limbs:)`.
final class ExpTables: @unchecked Sendable {
    let limbs: Int
    static let integerChunks = 2
    /// K = 2L fraction chunks leave a residual r < 2^(−16L), and r⁴/24 < 2^(−64L)/24.
    var fractionChunks: Int { 2 * limbs }
    /// Entry for (chunk, c) at `((chunk·256) + c)·limbs`; chunk < 2 is integer
    /// chunk i = chunk, chunk ≥ 2 is fraction chunk k = chunk − 1. Written once in init.
    let entries: UnsafeMutablePointer<UInt>

    private init(limbs: Int) {
        self.limbs = limbs
        let chunks = Self.integerChunks + 2 * limbs
        let e = UnsafeMutablePointer<UInt>.allocate(capacity: chunks * 256 * limbs)
        e.initialize(repeating: 0, count: chunks * 256 * limbs)
        let arg = MPFRFloat(precision: 64), y = MPFRFloat(precision: 64 * limbs + 16), z = GMPInteger()
        do {
            for chunk in 0..<chunks {
                let weight = chunk < Self.integerChunks ? 8 * chunk : -8 * (chunk - 1)  // c·2^weight
                for c in 1..<256 {
                    arg.set(-c, timesTwoTo: weight, rounding: .down)  // exact
                    y.exp(arg, rounding: .down)
                    y.mulPowerOfTwo(y, 64 * limbs, rounding: .down)  // exact
                    y.integer(into: z, rounding: .down)
                    let ok = z.copyMagnitudeLimbs(into: e + (chunk * 256 + c) * limbs, count: limbs)
                    precondition(ok, "exp table entry ≥ 1")
                }
            }
        }
        entries = e
    }

    deinit { entries.deallocate() }

    private static let cache = Mutex<[Int: ExpTables]>([:])

    /// The tables for `limbs`, built on first use (about 255·(2 + 4L) MPFR exps) and then shared.
    static func shared(limbs: Int) -> ExpTables {
        if let t = cache.withLock({ $0[limbs] }) { return t }
        let t = ExpTables(limbs: limbs)
        return cache.withLock { c in
            if let existing = c[limbs] { return existing }
            c[limbs] = t
            return t
        }
    }
}

/// exp(−T·2^(−64L)) for an integer T < 2^(64L+16), as a lower bound R with
/// a certified error: R ≤ exp(−T·2^(−64L)) < R + 4m·2^(−64L), where m is the
/// number of factors multiplied (Proofs/certified-enclosure.md, Lemma 4).
///
/// Method: split T into 8-bit chunks (2 integer, 2L fraction) and a residual
/// r < 2^(−16L); multiply the tabulated exp(−chunk) lower bounds and a lower
/// bound of 1 − r + r²/2 − r³/6 (≤ exp(−r) < it + r⁴/24) with floor-rounded
/// L-limb products (GMP's mpn). A worker's scratch: not thread-safe.
final class TableExp {
    let tables: ExpTables
    let limbs: Int
    private let t: UnsafeMutablePointer<UInt>  // T, L + 1 limbs
    private let acc: UnsafeMutablePointer<UInt>  // R, L limbs
    private let prod: UnsafeMutablePointer<UInt>  // 2L limbs
    private let resid: UnsafeMutablePointer<UInt>  // r, L limbs
    private let b: UnsafeMutablePointer<UInt>  // ⌊r²·2^A⌋ + 1, L + 1 limbs
    private let q: UnsafeMutablePointer<UInt>  // ⌈c/6⌉, 2L limbs
    private let factor: UnsafeMutablePointer<UInt>  // the residual factor, L + 1 limbs
    private let half: UnsafeMutablePointer<UInt>  // ⌊b/2⌋ (before the +1), L + 1 limbs

    init(limbs: Int) {
        self.limbs = limbs
        tables = ExpTables.shared(limbs: limbs)
        t = .allocate(capacity: limbs + 1)
        acc = .allocate(capacity: limbs)
        prod = .allocate(capacity: 2 * limbs + 2)
        resid = .allocate(capacity: limbs)
        b = .allocate(capacity: limbs + 1)
        q = .allocate(capacity: 2 * limbs + 2)
        factor = .allocate(capacity: limbs + 1)
        half = .allocate(capacity: limbs + 1)
    }

    deinit {
        t.deallocate(); acc.deallocate(); prod.deallocate(); resid.deallocate()
        b.deallocate(); q.deallocate(); factor.deallocate(); half.deallocate()
    }

    enum Result {
        /// T = 0: exp is exactly 1.
        case one
        /// R (read with `lowerBound(shiftedRightBy:into:)`) and the factor count m.
        case bounded(factors: Int)
        /// T too large for the tables (never for T ≤ 2^16·2^(64L)).
        case outOfRange
    }

    /// Evaluates the lower bound for T (a non-negative GMP integer).
    func evaluate(_ T: GMPInteger) -> Result {
        guard T.sign >= 0, T.copyMagnitudeLimbs(into: t, count: limbs + 1), t[limbs] >> 16 == 0 else {
            return .outOfRange
        }
        return evaluateLoaded()
    }

    /// T = ⌈m·2^shift⌉ for an exact dyadic argument (no MPFR involved).
    /// Returns nil when T ≥ bound·2^A (the caller's cut-off), else evaluates.
    func evaluate(magnitude m: UInt128, shift: Int, integerBound bound: Int) -> Result? {
        let L = limbs
        for i in 0...L { t[i] = 0 }
        if m == 0 { return .one }
        let bits = 128 - m.leadingZeroBitCount
        // T < 2^(bits + shift); T ≥ 2^(bits − 1 + shift). Cut-off when T ≥ bound·2^A surely.
        if bits - 1 + shift >= 64 * L + (Int.bitWidth - bound.leadingZeroBitCount) { return nil }
        if shift >= 0 {
            // m << shift fits in L + 1 limbs: bits + shift < 64L + 64.
            let limbShift = shift / 64, bitShift = UInt128(shift % 64)
            let low = m << bitShift, high = bitShift == 0 ? 0 : m >> (128 - bitShift)
            let words = [
                UInt(truncatingIfNeeded: low), UInt(truncatingIfNeeded: low >> 64),
                UInt(truncatingIfNeeded: high),
            ]
            for (k, w) in words.enumerated() where limbShift + k <= L { t[limbShift + k] = w }
        } else {
            let r = -shift
            guard r < 128 else {
                t[0] = 1  // 0 < m·2^shift < 1 ⇒ T = 1
                return t[L] >= UInt(bound) ? nil : evaluateLoaded()
            }
            var q = m >> UInt128(r)
            if q << UInt128(r) != m { q += 1 }  // ceiling
            t[0] = UInt(truncatingIfNeeded: q)
            if L >= 1 { t[1] = UInt(truncatingIfNeeded: q >> 64) }
        }
        if t[L] >= UInt(bound) { return nil }
        return evaluateLoaded()
    }

    /// Evaluates the lower bound for the T already in `t` (L + 1 limbs).
    private func evaluateLoaded() -> Result {
        let L = limbs
        guard t[L] >> 16 == 0 else { return .outOfRange }
        var factors = 0
        let base = tables.entries
        // Integer chunks: bits [64L + 8i, 64L + 8i + 8) are in limb L.
        for i in 0..<ExpTables.integerChunks {
            let c = Int((t[L] >> UInt(8 * i)) & 0xFF)
            if c != 0 { multiply(by: base + (i * 256 + c) * L, first: factors == 0); factors += 1 }
        }
        // Fraction chunk k: bits [64L − 8k, 64L − 8k + 8).
        for k in 1...tables.fractionChunks {
            let pos = 64 * L - 8 * k
            let c = Int((t[pos / 64] >> UInt(pos % 64)) & 0xFF)
            if c != 0 {
                multiply(by: base + ((ExpTables.integerChunks + k - 1) * 256 + c) * L, first: factors == 0)
                factors += 1
            }
        }
        // Residual r = T mod 2^(48L) (as a fraction of 2^A: r < 2^(−16L)).
        let residBits = 48 * L
        var ra = 0
        for i in 0..<L {
            let lowBits = residBits - 64 * i
            let word: UInt = lowBits >= 64 ? t[i] : (lowBits <= 0 ? 0 : t[i] & ((1 << UInt(lowBits)) - 1))
            resid[i] = word
            if word != 0 { ra = i + 1 }
        }
        if ra > 0 {
            residualFactor(ra)
            multiply(by: factor, first: factors == 0)
            factors += 1
        }
        return factors == 0 ? .one : .bounded(factors: factors)
    }

    /// acc = f (first factor) or ⌊acc·f / 2^(64L)⌋.
    @inline(__always) private func multiply(by f: UnsafePointer<UInt>, first: Bool) {
        let L = limbs
        if first {
            for i in 0..<L { acc[i] = f[i] }
        } else {
            __gmpn_mul_n(prod, acc, f, L)
            for i in 0..<L { acc[i] = prod[L + i] }
        }
    }

    /// factor = 2^A − a + ⌊b/2⌋ − ⌈c/6⌉ with a = r·2^A, b = ⌊a²/2^A⌋, c = ⌈(b+1)·a/2^A⌉:
    /// a lower bound of (1 − r + r²/2 − r³/6)·2^A within 3 units of exp(−r)·2^A (Lemma 4).
    private func residualFactor(_ ra: Int) {
        let L = limbs
        // b = ⌊a²/2^A⌋ + 1 ≥ a²/2^A (the +1 makes it an upper bound of r²·2^A).
        __gmpn_sqr(prod, resid, ra)
        var nb = max(0, 2 * ra - L)
        for i in 0..<nb { b[i] = prod[L + i] }
        for i in 0..<nb { half[i] = (b[i] >> 1) | (i + 1 < nb ? b[i + 1] << 63 : 0) }
        let nHalf = nb
        b[nb] = 0
        var carry: UInt = 1
        for i in 0...nb where carry != 0 {
            let (v, o) = b[i].addingReportingOverflow(carry)
            b[i] = v
            carry = o ? 1 : 0
        }
        nb += 1
        while nb > 1 && b[nb - 1] == 0 { nb -= 1 }
        // c = ⌈b·a/2^A⌉ ≥ r³·2^A.
        if ra >= nb { __gmpn_mul(prod, resid, ra, b, nb) } else { __gmpn_mul(prod, b, nb, resid, ra) }
        let np = ra + nb
        var nc = max(0, np - L)
        for i in 0..<nc { q[i] = prod[L + i] }
        var lowNonzero = false
        for i in 0..<min(L, np) where prod[i] != 0 { lowNonzero = true; break }
        if lowNonzero {
            if nc == 0 { q[0] = 0; nc = 1 }
            q[nc] = 0
            var cy: UInt = 1
            for i in 0...nc where cy != 0 { let (v, o) = q[i].addingReportingOverflow(cy); q[i] = v; cy = o ? 1 : 0 }
            nc += 1
        }
        // ⌈c/6⌉.
        if nc > 0 {
            let rem = __gmpn_divrem_1(q, 0, q, nc, 6)
            if rem != 0 {
                q[nc] = 0
                var cy: UInt = 1
                for i in 0...nc where cy != 0 {
                    let (v, o) = q[i].addingReportingOverflow(cy); q[i] = v; cy = o ? 1 : 0
                }
                nc += 1
            }
        }
        // factor = 2^A − a + ⌊b/2⌋ − ⌈c/6⌉ over L + 1 limbs (two's complement arithmetic, result in [0, 2^A)).
        for i in 0..<L { factor[i] = 0 }
        factor[L] = 1
        func sub(_ y: UnsafePointer<UInt>, _ n: Int) {
            var borrow: UInt = 0
            for i in 0...L {
                let yi: UInt = i < n ? y[i] : 0
                let (d1, o1) = factor[i].subtractingReportingOverflow(yi)
                let (d2, o2) = d1.subtractingReportingOverflow(borrow)
                factor[i] = d2
                borrow = (o1 || o2) ? 1 : 0
            }
        }
        func add(_ y: UnsafePointer<UInt>, _ n: Int) {
            var cy: UInt = 0
            for i in 0...L {
                let yi: UInt = i < n ? y[i] : 0
                let (s1, o1) = factor[i].addingReportingOverflow(yi)
                let (s2, o2) = s1.addingReportingOverflow(cy)
                factor[i] = s2
                cy = (o1 || o2) ? 1 : 0
            }
        }
        sub(resid, ra)
        add(half, nHalf)
        sub(q, nc)
        precondition(factor[L] == 0, "residual factor out of range")
    }

    /// ⌊R·2^F⌋ = R_int >> (64L − F) into `out[0..<count]`.
    /// - Precondition: 0 ≤ F ≤ 64L and `count` limbs hold F + 1 bits.
    func lowerBound(weightBits F: Int, into out: UnsafeMutablePointer<UInt>, count: Int) {
        let shift = 64 * limbs - F, limbShift = shift / 64, bitShift = UInt(shift % 64)
        for i in 0..<count {
            let a = i + limbShift < limbs ? acc[i + limbShift] : 0
            let b = i + limbShift + 1 < limbs ? acc[i + limbShift + 1] : 0
            out[i] = bitShift == 0 ? a : (a >> bitShift) | (b << (64 - bitShift))
        }
    }
}
