import AttnCertified
import AttnCore
import AttnKernels
import AttnPoly
import AttnTestSupport
import Foundation
import Testing

/// The polynomial a-priori bound in its tight regimes (issue 11).
///
/// Approximation: d = 1, s = 1, q = 1; keys at −R (where the polynomial's relative error is largest)
/// carry value +1, keys at +R or 0 carry −1, with the two groups' softmax masses balanced, so the
/// weight perturbation moves the output as far as the range allows.
/// Rounding: Float32 with R large enough that the η term (γ_m·P̄(R)·e^R) dominates.
@Suite struct PolyTightnessTests {
    struct Case: CustomStringConvertible {
        let family: ExpFamily, degree: Int, R: Double, float: Bool
        var description: String { "\(family) g=\(degree) R=\(R) \(float ? "float32" : "float64")" }
    }

    static let cases: [Case] = [
        Case(family: .taylor, degree: 10, R: 2, float: false),
        Case(family: .taylor, degree: 14, R: 4, float: false),
        Case(family: .chebyshev, degree: 8, R: 3, float: false),
        Case(family: .chebyshev, degree: 12, R: 6, float: false),
        Case(family: .interpolant, degree: 9, R: 3, float: false),
        // Float32, ε ≤ 10⁻⁹ and e^{2R}·γ_m ≈ 10⁻² … 10⁻¹: the η term is the bound (R = 8, 10 made it +∞).
        Case(family: .chebyshev, degree: 16, R: 3, float: true),
        Case(family: .taylor, degree: 22, R: 3.5, float: true),
        Case(family: .chebyshev, degree: 20, R: 4, float: true),
    ]

    /// Two score positions within 7 of each other where P̂(x)/eˣ − 1 is largest and smallest (grid search).
    static func extremes(_ p: ExpPolynomial) -> (Double, Double) {
        let grid = (0...400).map { -p.radius + 2 * p.radius * Double($0) / 400 }
        let rel = grid.map { p.evaluate($0) / Foundation.exp($0) - 1 }
        var best = (0.0, grid[0], grid[0])
        for a in grid.indices {
            for b in grid.indices where abs(grid[a] - grid[b]) <= 7 {
                let spread = rel[a] - rel[b]
                if spread > best.0 { best = (spread, grid[a], grid[b]) }
            }
        }
        return (best.1, best.2)
    }

    static func run<T: KernelScalar>(_ c: Case, _: T.Type) throws -> Double {
        let p = try ExpPolynomial(family: c.family, radius: c.R, degree: c.degree)
        let (xUp, xDown) = Self.extremes(p)
        // Mass of a key at x is e^x: n_up·e^{xUp} ≈ n_down·e^{xDown} balances the two groups.
        let nUp = 2, nDown = max(1, Int((Double(nUp) * Foundation.exp(xUp - xDown)).rounded()))
        let (a, b) = nDown > 2000 ? (nUp * 2000 / nDown + 1, 2000) : (nUp, nDown)
        let keys = [T](repeating: T(xUp), count: a) + [T](repeating: T(xDown), count: b)
        let values = [T](repeating: 1, count: a) + [T](repeating: -1, count: b)
        let n = keys.count
        let q = Tensor<T>(rows: 1, cols: 1, storage: [1]), k = Tensor<T>(rows: n, cols: 1, storage: keys)
        let v = Tensor<T>(rows: n, cols: 1, storage: values)
        let options = PolyOptions(family: c.family, degree: .degree(c.degree), radius: .fixed(c.R))
        let res = try PolyAttention.compute(q: q, k: k, v: v, scale: .decimal("1"), options: options)
        let cert = try CertifiedAttention.compute(q: q, k: k, v: v, scale: .decimal("1"), precision: 128, threads: 1)
        let o = Double(res.output[0, 0, 0])
        let e = max(abs(o - cert.lower[0, 0, 0]), abs(cert.upper[0, 0, 0] - o))
        let bound = res.heads[0].bound.rows[0]
        if c.float {
            #expect(
                bound.isFinite && res.heads[0].bound.rounding > res.heads[0].bound.approximation,
                "\(c): η does not dominate")
        }
        #expect(BoundLedger.shared.within(.polynomialApriori, error: e, bound: bound), "\(c): \(e) > \(bound)")
        print(
            "tightness \(TrackedBound.polynomialApriori.rawValue) \(c) keys at \(xUp), \(xDown): error \(e) bound \(bound) ratio \(e / bound)"
        )
        return e / bound
    }

    @Test func boundIsApproachedByAdversarialInputs() throws {
        var worst = 0.0
        for c in Self.cases { worst = max(worst, c.float ? try Self.run(c, Float.self) : try Self.run(c, Double.self)) }
        print("tightness worst \(TrackedBound.polynomialApriori.rawValue): \(worst)")
        #expect(worst >= requiredTightness)
    }
}
