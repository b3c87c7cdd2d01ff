import AttnCore
import AttnPoly
import AttnTestSupport
import Foundation
import Testing

/// `GradientReduction` (the lower bound's reduction, Lemmas E.3–E.4, as an illustration): the Riemann sum
/// of m gradient calls recovers f(1) − f(0) within the proved b/m, and the error falls like 1/m.
@Suite struct GradientReductionTests {
    @Test(arguments: [(16, 2, 0.5), (32, 3, 1.0), (40, 4, 2.0)])
    func riemannSumIsWithinBOverM(n: Int, d: Int, B: Double) throws {
        var rng = Xoshiro256StarStar(seed: UInt64(n * 31 + d))
        let p = try GradientProblem.random(n: n, d: d, entryBound: B, using: &rng)
        let r = try GradientReduction(p, calls: [1, 4, 16, 64])
        for e in r.estimates {
            #expect(e.error <= e.bound, "m=\(e.m): \(e.error) > \(e.bound)")
            #expect(e.bound >= r.curvature / Double(e.m))
        }
        // Left Riemann sums: error ≈ |f′(1) − f′(0)|/(2m), so m·error settles.
        let last = r.estimates.last!, first = r.estimates[1]
        #expect(last.error < first.error)
        print(
            "reduction n=\(n) d=\(d) B=\(B): m·error = \(r.estimates.map { Double($0.m) * $0.error }), b = \(r.curvature)"
        )
    }

    /// f(1) − f(0) against the 256-bit loss: L = ½‖f h − E‖² at X = I (E = 0) from `MPFRGradient`'s
    /// closed form is not needed; central differences of f (via `LossGradient.loss`) confirm f′ = 2·tr(g).
    @Test func derivativeIsTwiceTheTrace() throws {
        var rng = Xoshiro256StarStar(seed: 5)
        let p0 = try GradientProblem.random(n: 20, d: 2, entryBound: 1, using: &rng)
        let zero = [Double](repeating: 0, count: 40)
        func f(_ t: Double) throws -> Double {
            2
                * (try LossGradient.exact(
                    GradientProblem(
                        n: 20, d: 2, a1: p0.a1, x: [t, 0, 0, t], a2: p0.a2, a3: p0.a3, y: [1, 0, 0, 1], e: zero)
                ).loss)
        }
        let g = try LossGradient.exact(
            GradientProblem(
                n: 20, d: 2, a1: p0.a1, x: [0.5, 0, 0, 0.5], a2: p0.a2, a3: p0.a3, y: [1, 0, 0, 1], e: zero))
        let fd = (try f(0.5 + 1e-5) - f(0.5 - 1e-5)) / 2e-5
        #expect(abs(fd - 2 * (g.gradient[0] + g.gradient[3])) <= 1e-6)
    }

    @Test func badCallCountsAreRefused() throws {
        var rng = Xoshiro256StarStar(seed: 1)
        let p = try GradientProblem.random(n: 4, d: 1, entryBound: 1, using: &rng)
        #expect(throws: AttnError.self) { _ = try GradientReduction(p, calls: [0]) }
        #expect(throws: AttnError.self) { _ = try GradientReduction(p, calls: []) }
    }
}
