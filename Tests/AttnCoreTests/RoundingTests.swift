import AttnCore
import Foundation
import Testing

@Suite struct RoundingTests {
    /// γ_n·(1 − n·u) ≥ n·u exactly: with u = 2⁻ᵖ this is γ_n·(2ᵖ − n) ≥ n, and
    /// one fma rounds γ_n·(2ᵖ − n) − n once, which keeps its sign.
    static func excess(_ n: Int, p: Int) -> Double {
        let twoP = Double(sign: .plus, exponent: p, significand: 1)
        let g = Rounding.gamma(n, unitRoundoff: 1 / twoP)
        return fma(g, twoP - Double(n), -Double(n))
    }

    @Test(
        "γ_n is an upper bound on n·u/(1 − n·u), and within a few ulps of it",
        arguments: [1, 2, 3, 7, 100, 4097, 1 << 20, (1 << 23) - 1, 123_456_789, 1 << 40])
    func upperAndTight(_ n: Int) {
        for p in [24, 53] where Double(n) < Double(sign: .plus, exponent: p, significand: 1) {
            let e = Self.excess(n, p: p)
            #expect(e >= 0, "n = \(n), u = 2^-\(p)")
            // Tight: the excess is a few ulps of γ_n·(2ᵖ − n) ≈ n (a halved γ fails the line above).
            #expect(e <= 8 * Double(n).ulp + 8 * Double(n) * 0x1p-52, "n = \(n), u = 2^-\(p)")
        }
    }

    @Test("γ_n is +∞ once n·u ≥ 1")
    func saturates() {
        #expect(Rounding.gamma(1 << 24, unitRoundoff: 0x1p-24) == .infinity)
        #expect(Rounding.gamma(1 << 30, unitRoundoff: 0x1p-24) == .infinity)
        #expect(Rounding.gamma(0, unitRoundoff: 0x1p-53) >= 0)
    }
}
