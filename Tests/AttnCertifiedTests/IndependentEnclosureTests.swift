import AttnCertified
import AttnCore
import AttnTestSupport
import CGMP
import Foundation
import Testing

/// An exact rational number owned by this test (GMP's mpq_t; `__gmpq_init` / `__gmpq_clear`).
/// Deliberately independent of AttnCertified's own wrappers: nothing here shares code with the engine.
final class Q {
    let raw = UnsafeMutablePointer<__mpq_struct>.allocate(capacity: 1)
    init() { __gmpq_init(raw) }
    convenience init(_ n: Int, _ d: Int = 1) { self.init(); __gmpq_set_si(raw, n, UInt(d)); __gmpq_canonicalize(raw) }
    convenience init(_ x: Double) { self.init(); __gmpq_set_d(raw, x) }  // exact for every finite double
    deinit { __gmpq_clear(raw); raw.deallocate() }
    static func + (a: Q, b: Q) -> Q { let r = Q(); __gmpq_add(r.raw, a.raw, b.raw); return r }
    static func - (a: Q, b: Q) -> Q { let r = Q(); __gmpq_sub(r.raw, a.raw, b.raw); return r }
    static func * (a: Q, b: Q) -> Q { let r = Q(); __gmpq_mul(r.raw, a.raw, b.raw); return r }
    static func / (a: Q, b: Q) -> Q { let r = Q(); __gmpq_div(r.raw, a.raw, b.raw); return r }
    static func < (a: Q, b: Q) -> Bool { __gmpq_cmp(a.raw, b.raw) < 0 }
    static func <= (a: Q, b: Q) -> Bool { __gmpq_cmp(a.raw, b.raw) <= 0 }
    var sign: Int32 { __gmpq_cmp_si(raw, 0, 1).signum() }
    var double: Double { __gmpq_get_d(raw) }

    /// ⌊x·2^bits⌋/2^bits (down) or ⌈x·2^bits⌉/2^bits (up): keeps the numbers small, rounding outward.
    func dyadic(bits: Int, up: Bool) -> Q {
        let n = UnsafeMutablePointer<__mpz_struct>.allocate(capacity: 1),
            t = UnsafeMutablePointer<__mpz_struct>.allocate(capacity: 1)
        __gmpz_init(n); __gmpz_init(t)
        defer { __gmpz_clear(n); __gmpz_clear(t); n.deallocate(); t.deallocate() }
        __gmpz_mul_2exp(n, &raw.pointee._mp_num, UInt(bits))
        if up { __gmpz_cdiv_q(t, n, &raw.pointee._mp_den) } else { __gmpz_fdiv_q(t, n, &raw.pointee._mp_den) }
        let r = Q()
        __gmpq_set_z(r.raw, t)
        __gmpq_div_2exp(r.raw, r.raw, UInt(bits))
        return r
    }
}

/// The certified engine at d > 1 with the irrational scale 1/√d, against an enclosure computed here
/// from scratch in exact rationals: 1/√d enclosed by integer square roots, exp by its Taylor series
/// with the remainder bounded rationally (argument halved r times, then squared back).
@Suite struct IndependentEnclosureTests {
    static let bits = 160

    /// [lo, hi] ∋ 1/√d, with hi − lo = 2⁻¹⁶⁰.
    static func inverseSqrt(_ d: Int) -> (Q, Q) {
        let z = UnsafeMutablePointer<__mpz_struct>.allocate(capacity: 1)
        __gmpz_init(z); defer { __gmpz_clear(z); z.deallocate() }
        __gmpz_set_ui(z, 1)
        __gmpz_mul_2exp(z, z, UInt(2 * bits))
        __gmpz_tdiv_q_ui(z, z, UInt(d))
        __gmpz_sqrt(z, z)  // ⌊√⌊2^{2b}/d⌋⌋ = ⌊2^b/√d⌋
        let lo = Q(); __gmpq_set_z(lo.raw, z); __gmpq_div_2exp(lo.raw, lo.raw, UInt(bits))
        let hi =
            lo
            + {
                let e = Q(1); __gmpq_div_2exp(e.raw, e.raw, UInt(bits)); return e
            }()
        return (lo, hi)
    }

    /// [lo, hi] ∋ e^y for |y| ≤ 1/2: Σ_{t ≤ 30} y^t/t! ± 2|y|^31/31! (the tail is at most twice its first term).
    static func expSmall(_ y: Q) -> (Q, Q) {
        var term = Q(1), sum = Q(1)
        for t in 1...30 { term = term * y / Q(t); sum = sum + term }
        var rem = term * y / Q(31)
        if rem.sign < 0 { rem = Q(0) - rem }
        rem = rem * Q(2)
        return ((sum - rem).dyadic(bits: bits + 20, up: false), (sum + rem).dyadic(bits: bits + 20, up: true))
    }

    /// [lo, hi] ∋ e^x for |x| ≤ 2^(squarings − 1), lo > 0: e^x = (e^{x/2^r})^(2^r).
    static func exp(_ xLo: Q, _ xHi: Q, squarings r: Int = 4) -> (Q, Q) {
        var (lo, _) = expSmall(xLo / Q(1 << r))
        var (_, hi) = expSmall(xHi / Q(1 << r))
        for _ in 0..<r {
            lo = (lo * lo).dyadic(bits: bits + 20, up: false); hi = (hi * hi).dyadic(bits: bits + 20, up: true)
        }
        return (lo, hi)
    }

    /// Exact enclosure of softmax(s·q·Kᵀ)·V for one query, s = 1/√d.
    static func enclosure(q: [Float], k: [[Float]], v: [[Float]], d: Int, squarings: Int = 4) -> [(Q, Q)] {
        let (sLo, sHi) = inverseSqrt(d)
        var weights: [(Q, Q)] = []
        for kj in k {
            var dot = Q(0)
            for c in 0..<d { dot = dot + Q(Double(q[c])) * Q(Double(kj[c])) }
            let (xLo, xHi) = dot.sign >= 0 ? (sLo * dot, sHi * dot) : (sHi * dot, sLo * dot)
            weights.append(exp(xLo, xHi, squarings: squarings))
        }
        var dLo = Q(0), dHi = Q(0)
        for (a, b) in weights { dLo = dLo + a; dHi = dHi + b }
        return (0..<v[0].count).map { c in
            var nLo = Q(0), nHi = Q(0)
            for (j, (a, b)) in weights.enumerated() {
                let x = Q(Double(v[j][c]))
                if x.sign >= 0 { nLo = nLo + a * x; nHi = nHi + b * x } else { nLo = nLo + b * x; nHi = nHi + a * x }
            }
            return (nLo / (nLo.sign >= 0 ? dHi : dLo), nHi / (nHi.sign >= 0 ? dLo : dHi))
        }
    }

    /// Explicit cases: d = 2, 3, 5, 7 (1/√d irrational), dyadic entries, scores |x| ≤ 8.
    static let cases: [(d: Int, n: Int, dv: Int, seed: UInt64)] = [
        (2, 5, 2, 1), (3, 9, 3, 2), (5, 4, 1, 3), (7, 12, 2, 4), (3, 30, 2, 5),
    ]

    @Test(arguments: [16, 24, 53, 113], [CertifiedExpMethod.tables, .mpfr])
    func irrationalScaleMatchesExactRationals(precision: Int, method: CertifiedExpMethod) throws {
        var worst = 0.0
        for c in Self.cases {
            var rng = Xoshiro256StarStar(seed: c.seed)
            // Entries m/8 with |m| ≤ 12, so |s·q·k| ≤ √d·1.5² ≤ 6.
            func entry() -> Float { Float(rng.below(25) - 12) / 8 }
            let q = (0..<c.d).map { _ in entry() }
            let k = (0..<c.n).map { _ in (0..<c.d).map { _ in entry() } }
            let v = (0..<c.n).map { _ in (0..<c.dv).map { _ in entry() } }
            let truth = Self.enclosure(q: q, k: k, v: v, d: c.d)
            let r = try CertifiedAttention.compute(
                q: Tensor(rows: 1, cols: c.d, storage: q),
                k: Tensor(rows: c.n, cols: c.d, storage: k.flatMap { $0 }),
                v: Tensor(rows: c.n, cols: c.dv, storage: v.flatMap { $0 }),
                scale: .standard, precision: precision, expMethod: method)
            for col in 0..<c.dv {
                let lo = r.lower[0, 0, col], hi = r.upper[0, 0, col]
                let (tLo, tHi) = truth[col]
                #expect(
                    Q(lo) <= tLo && tHi <= Q(hi),
                    "d=\(c.d) seed \(c.seed) p=\(precision) \(method) col \(col): [\(lo), \(hi)] ∌ [\(tLo.double), \(tHi.double)]"
                )
                // How far into its enclosure the truth sits: |truth − mid| / half-width (1 = at an end).
                let mid = (Q(lo) + Q(hi)) / Q(2), half = (Q(hi) - Q(lo)) / Q(2)
                if half.sign > 0 {
                    let e1 = tHi - mid, e2 = mid - tLo
                    let e = (e2 < e1 ? e1 : e2).double
                    BoundLedger.shared.within(.certifiedWidth, error: e, bound: half.double)
                    worst = Swift.max(worst, e / half.double)
                }
            }
        }
        print("tightness \(TrackedBound.certifiedWidth.rawValue) p=\(precision) \(method): \(worst)")
        if precision <= 24 { #expect(worst >= requiredTightness, "the enclosure is never approached: \(worst)") }
    }

    /// The weight spread δ_j of the MPFR route bites (mutation row `certified-spread`): one key at score
    /// 0 with v = 0 and n − 1 keys whose weights e^x·2^F are only ≈ 2–40 (x just above the cut-off
    /// −(F + 2), F = p + 8), with v > 0. Then the output is Σ_j w_j v_j/(1 + Σ_j w_j) with every w_j known
    /// to ±2^−F only: the spreads, not the p-bit roundings, set the enclosure's width, so halving them
    /// leaves the exact value (GMP rationals, `enclosure`) outside.
    @Test(arguments: [16, 53])
    func weightSpreadCoversWeightsNearTheCutoff(precision: Int) throws {
        let f = Double(precision + 8), d = 2, n = 48
        // x = −a·(b + c)/√2 ∈ [−(F·ln 2 − 1), −(F·ln 2 − 4)]: q = (a, a), k_j = (−b, −c) with b, c ≥ 0.
        let target = f * log(2.0)
        var worst = 0.0
        for seed in UInt64(0)..<4 {
            var rng = Xoshiro256StarStar(seed: 0xC0FFEE &+ seed)
            let a = Float(4)
            let q = [a, a]
            var k: [[Float]] = [[0, 0]], v: [[Float]] = [[0]]
            for _ in 1..<n {
                // b + c ≈ √2·x/a in eighths.
                let x = target - 1 - 3 * Double(rng.below(1000)) / 1000
                let sum = Int((x * 2.0.squareRoot() / Double(a) * 8).rounded(.down))
                let b = rng.below(sum + 1)
                k.append([-Float(b) / 8, -Float(sum - b) / 8])
                v.append([Float(1 + rng.below(16)) / 8])
            }
            let truth = Self.enclosure(q: q, k: k, v: v, d: d, squarings: 7)
            let r = try CertifiedAttention.compute(
                q: Tensor(rows: 1, cols: d, storage: q),
                k: Tensor(rows: n, cols: d, storage: k.flatMap { $0 }),
                v: Tensor(rows: n, cols: 1, storage: v.flatMap { $0 }),
                scale: .standard, precision: precision, expMethod: .mpfr)
            let lo = r.lower[0, 0, 0], hi = r.upper[0, 0, 0]
            let (tLo, tHi) = truth[0]
            #expect(
                Q(lo) <= tLo && tHi <= Q(hi),
                "seed \(seed) p=\(precision): [\(lo), \(hi)] ∌ [\(tLo.double), \(tHi.double)]")
            // The spreads dominate: the enclosure is far wider than its p-bit rounding.
            #expect((hi - lo) > 16 * hi * pow(2, -Double(precision)), "spread not dominant: [\(lo), \(hi)]")
            let mid = (Q(lo) + Q(hi)) / Q(2), half = (Q(hi) - Q(lo)) / Q(2)
            let e1 = tHi - mid, e2 = mid - tLo
            worst = Swift.max(worst, (e2 < e1 ? e1 : e2).double / half.double)
        }
        print("spread regime p=\(precision): truth at \(worst) of the half-width")
    }
}
