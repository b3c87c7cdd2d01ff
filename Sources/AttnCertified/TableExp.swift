import CGMP
import Synchronization

/// Tables of exp(−c·2^(8i)) (i = 0, 1: the integer part of the argument)
/// and exp(−c·2^(−8k)) (k = 1…4L: its fraction), c = 1…255, each rounded
/// down to an L-limb binary fraction (value = integer / 2^(64L)).
///
/// Guarantee: every entry ẽ satisfies e − 2^(1−64L) < ẽ ≤ e for the exact
/// value e (MPFR exp rounded down at 64L + 16 bits, then floored).
/// Immutable once built; shared per L through `shared(limbs:)`.
final class ExpTables: @unchecked Sendable {
    let limbs: Int
    static let integerChunks = 2
    /// K = 4L fraction chunks leave a residual r < 2^(−32L), and r²/2 < 2^(−64L−1).
    var fractionChunks: Int { 4 * limbs }
    /// Entry for (chunk, c) at `((chunk·256) + c)·limbs`; chunk < 2 is integer
    /// chunk i = chunk, chunk ≥ 2 is fraction chunk k = chunk − 1.
    let entries: [UInt]

    private init(limbs: Int) {
        self.limbs = limbs
        let chunks = Self.integerChunks + 4 * limbs
        var e = [UInt](repeating: 0, count: chunks * 256 * limbs)
        let arg = MPFRFloat(precision: 64), y = MPFRFloat(precision: 64 * limbs + 16), z = GMPInteger()
        e.withUnsafeMutableBufferPointer { buf in
            for chunk in 0..<chunks {
                let weight = chunk < Self.integerChunks ? 8 * chunk : -8 * (chunk - 1)  // c·2^weight
                for c in 1..<256 {
                    arg.set(-c, timesTwoTo: weight, rounding: .down)  // exact
                    y.exp(arg, rounding: .down)
                    y.mulPowerOfTwo(y, 64 * limbs, rounding: .down)  // exact
                    y.integer(into: z, rounding: .down)
                    let ok = z.copyMagnitudeLimbs(into: buf.baseAddress! + (chunk * 256 + c) * limbs, count: limbs)
                    precondition(ok, "exp table entry ≥ 1")
                }
            }
        }
        entries = e
    }

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
/// a certified error: R ≤ exp(−T·2^(−64L)) < R + 3m·2^(−64L), where m is the
/// number of factors multiplied (Proofs/certified-enclosure.md, Lemma 4).
///
/// Method: split T into 8-bit chunks (2 integer, 4L fraction) and a residual
/// r < 2^(−32L); multiply the tabulated exp(−chunk) lower bounds and 1 − r
/// (exp(−r) − r²/2 ≤ 1 − r ≤ exp(−r)) with floor-rounded L-limb products
/// (GMP's mpn_mul_n). A worker's scratch: not thread-safe.
final class TableExp {
    let tables: ExpTables
    let limbs: Int
    private let t: UnsafeMutablePointer<UInt>      // T, L + 1 limbs
    private let acc: UnsafeMutablePointer<UInt>    // R, L limbs
    private let prod: UnsafeMutablePointer<UInt>   // 2L limbs
    private let resid: UnsafeMutablePointer<UInt>  // 1 − r, L limbs

    init(limbs: Int) {
        self.limbs = limbs
        tables = ExpTables.shared(limbs: limbs)
        t = .allocate(capacity: limbs + 1)
        acc = .allocate(capacity: limbs)
        prod = .allocate(capacity: 2 * limbs)
        resid = .allocate(capacity: limbs)
    }

    deinit {
        t.deallocate(); acc.deallocate(); prod.deallocate(); resid.deallocate()
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
        let L = limbs
        guard T.sign >= 0, T.copyMagnitudeLimbs(into: t, count: L + 1), t[L] >> 16 == 0 else { return .outOfRange }
        var factors = 0
        @inline(__always) func multiply(by f: UnsafePointer<UInt>) {
            if factors == 0 {
                for i in 0..<L { acc[i] = f[i] }
            } else {
                __gmpn_mul_n(prod, acc, f, L)
                for i in 0..<L { acc[i] = prod[L + i] }  // ⌊acc·f / 2^(64L)⌋
            }
            factors += 1
        }
        tables.entries.withUnsafeBufferPointer { e in
            let base = e.baseAddress!
            // Integer chunks: bits [64L + 8i, 64L + 8i + 8) are in limb L.
            for i in 0..<ExpTables.integerChunks {
                let c = Int((t[L] >> UInt(8 * i)) & 0xFF)
                if c != 0 { multiply(by: base + (i * 256 + c) * L) }
            }
            // Fraction chunk k: bits [64L − 8k, 64L − 8k + 8).
            for k in 1...tables.fractionChunks {
                let pos = 64 * L - 8 * k
                let c = Int((t[pos / 64] >> UInt(pos % 64)) & 0xFF)
                if c != 0 { multiply(by: base + ((ExpTables.integerChunks + k - 1) * 256 + c) * L) }
            }
        }
        // Residual r = T mod 2^(32L), as an L-limb fraction; factor 1 − r = 2^(64L) − r.
        let residBits = 32 * L
        var nonzero = false
        for i in 0..<L {
            let lowBits = residBits - 64 * i
            let word: UInt = lowBits >= 64 ? t[i] : (lowBits <= 0 ? 0 : t[i] & ((1 << UInt(lowBits)) - 1))
            resid[i] = word
            if word != 0 { nonzero = true }
        }
        if nonzero {
            // Two's complement over L limbs: 2^(64L) − r.
            var carry: UInt = 1
            for i in 0..<L {
                let (v, o) = (~resid[i]).addingReportingOverflow(carry)
                resid[i] = v
                carry = o ? 1 : 0
            }
            multiply(by: resid)
        }
        return factors == 0 ? .one : .bounded(factors: factors)
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
