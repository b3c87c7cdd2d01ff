import AttnCore
import AttnPoly
import AttnTestSupport
import Foundation
import PropertyBased
import Testing

/// `GradientPolyMethod` and its certified bound `GradientErrorBound` (Proofs/gradient-polynomial-method.md):
/// the bound is never violated against the 256-bit reference, it is approached by an adversarial
/// instance, and the construction is what the proof says (ranks, exactness at high degree).
@Suite struct GradientPolyMethodTests {
    /// A random problem: n ≤ 10, d ≤ 3, entries of A₁, A₂ up to B, X random or I, A₃, Y, E in [−1, 1].
    static func problem(seed: UInt64, B: Double, shape: Int) throws -> GradientProblem {
        var rng = Xoshiro256StarStar(seed: seed)
        let n = 1 + rng.below(10), d = 1 + rng.below(3)
        func draw(_ count: Int, _ b: Double) -> [Double] { (0..<count).map { _ in rng.uniform(-b, b) } }
        let eye = (0..<(d * d)).map { $0 % (d + 1) == 0 ? 1.0 : 0 }
        let x = shape % 2 == 0 ? eye : draw(d * d, 1)
        // shape 2: E = fh-like targets of the same size as the outputs; shape 3: a large residual.
        let eScale = shape % 4 == 3 ? 30.0 : 1
        return try GradientProblem(
            n: n, d: d, a1: draw(n * d, B), x: x, a2: draw(n * d, B), a3: draw(n * d, 1),
            y: shape % 3 == 0 ? eye : draw(d * d, 1),
            e: draw(n * d, eScale))
    }

    /// ≥ 2000 cases: B log-uniform in [10⁻², 3], every family, fixed degrees 0…9 and ε targets.
    @Test func boundNeverViolated() async throws {
        await propertyCheck(
            count: 2000,
            input: Gen.int(in: 0...Int(Int32.max)),
            Gen.element(of: [ExpFamily.chebyshev, .taylor, .shifted, .interpolant]),
            Gen.double(in: -2...log10(3)), Gen.int(in: 0...15)
        ) { seed, family, lb, shape in
            let p = try Self.problem(seed: UInt64(seed), B: pow(10, lb), shape: shape)
            let degree: PolyOptions.Degree = shape < 10 ? .degree(shape) : .epsilon(pow(10, -Double(shape - 7)))
            let res = try GradientPolyMethod.compute(p, family: family!, degree: degree)
            let err = MPFRGradient(p).error(of: res.gradient)
            #expect(
                BoundLedger.shared.within(.gradientPoly, error: err.lower, bound: res.bound.total),
                "\(err.lower) > \(res.bound.total) (\(res.bound))")
        }
    }

    /// The tight instance of Proofs/gradient-polynomial-method.md §3: d = 1, every query row equal, keys
    /// at the two scores where P̂(x)/eˣ − 1 is largest and smallest, their softmax masses balanced, values
    /// ±1 by group and E = 0, so that c = fh = 0 and the whole error is the weights' shift.
    static func tightRatio(family: ExpFamily, degree: Int, R: Double) throws -> Double {
        let poly = try ExpPolynomial(family: family, radius: R, degree: degree)
        let grid = (0...400).map { -R + 2 * R * Double($0) / 400 }
        let rel = grid.map { poly.evaluate($0) / Foundation.exp($0) - 1 }
        var best = (0.0, 0.0, 0.0)
        for a in grid.indices {
            for b in grid.indices where grid[a] - grid[b] >= -4 && grid[a] - grid[b] <= 4 && rel[a] - rel[b] > best.0 {
                best = (rel[a] - rel[b], grid[a], grid[b])
            }
        }
        let (xUp, xDown) = (best.1, best.2)
        // Masses: n_up·e^{x_up} ≈ n_down·e^{x_down}.
        var (nUp, nDown) = (1, 1)
        let ratio = Foundation.exp(xUp - xDown)
        if ratio >= 1 {
            nDown = max(1, Int((ratio * 2).rounded())); nUp = 2
        } else {
            nUp = max(1, Int((2 / ratio).rounded())); nDown = 2
        }
        let n = nUp + nDown
        let keys = [Double](repeating: xUp, count: nUp) + [Double](repeating: xDown, count: nDown)
        let values = [Double](repeating: 1, count: nUp) + [Double](repeating: -1, count: nDown)
        let p = try GradientProblem(
            n: n, d: 1, a1: [Double](repeating: 1, count: n), x: [1], a2: keys, a3: values, y: [1],
            e: [Double](repeating: 0, count: n))
        let res = try GradientPolyMethod.compute(p, family: family, degree: .degree(degree), radius: R)
        let err = MPFRGradient(p).error(of: res.gradient)
        #expect(BoundLedger.shared.within(.gradientPoly, error: err.lower, bound: res.bound.total))
        print(
            "tightness \(TrackedBound.gradientPoly.rawValue) \(family) g=\(degree) R=\(R) n=\(n): error \(err.lower) bound \(res.bound.total) ratio \(err.lower / res.bound.total)"
        )
        return err.lower / res.bound.total
    }

    @Test func boundIsApproachedByAdversarialInputs() throws {
        var worst = 0.0
        for (f, g, R) in [
            (ExpFamily.chebyshev, 8, 3.0), (.chebyshev, 12, 6.0), (.taylor, 10, 2.0), (.interpolant, 9, 3.0),
        ] {
            worst = max(worst, try Self.tightRatio(family: f, degree: g, R: R))
        }
        print("tightness worst \(TrackedBound.gradientPoly.rawValue): \(worst)")
        #expect(worst >= requiredTightness)
    }

    /// At a degree whose ε is below 10⁻¹⁴ the method is the gradient to rounding, and the bound says so.
    @Test func highDegreeIsTheExactGradient() throws {
        var rng = Xoshiro256StarStar(seed: 7)
        let p = try GradientProblem.random(n: 40, d: 3, entryBound: 1, using: &rng)
        let res = try GradientPolyMethod.compute(p, degree: .epsilon(1e-15))
        let err = MPFRGradient(p).error(of: res.gradient)
        #expect(err.upper <= 1e-12)
        #expect(res.bound.total <= 1e-10, "\(res.bound)")
        #expect(err.lower <= res.bound.total)
    }

    /// k₁ = C(g + d, d) features, k₂ = d, rank k₁·k₂; R covers the exact scores.
    @Test func ranksAreTheProofs() throws {
        var rng = Xoshiro256StarStar(seed: 3)
        let p = try GradientProblem.random(n: 30, d: 4, entryBound: 0.8, using: &rng)
        let res = try GradientPolyMethod.compute(p, degree: .degree(5))
        #expect(res.k1 == PolyRank.rank(d: 4, degree: 5))
        #expect(res.k2 == 4 && res.rank == res.k1 * 4)
        #expect(res.radius > 0 && res.radius <= 0.25 * 1.6 * 1.6 * (1 + 1e-12))
    }

    /// A fixed radius that misses the scores, bad shapes and NaN are refused with the parameter at fault.
    @Test func badInputsAreRefused() throws {
        #expect(throws: AttnError.self) {
            _ = try GradientProblem(n: 2, d: 1, a1: [1, .nan], x: [1], a2: [1, 1], a3: [1, 1], y: [1], e: [0, 0])
        }
        #expect(throws: AttnError.self) {
            _ = try GradientProblem(n: 2, d: 1, a1: [1], x: [1], a2: [1, 1], a3: [1, 1], y: [1], e: [0, 0])
        }
        let p = try GradientProblem(n: 2, d: 1, a1: [2, 2], x: [1], a2: [2, -2], a3: [1, -1], y: [1], e: [0, 0])
        #expect(throws: AttnError.self) { _ = try GradientPolyMethod.compute(p, degree: .degree(3), radius: 1) }
        do {
            _ = try GradientProblem(n: 1, d: 1, a1: [1], x: [1, 2], a2: [1], a3: [1], y: [1], e: [0])
        } catch let e as AttnError {
            #expect(e.parameter == .x)
        }
    }
}
