import AttnCore
import AttnPoly
import Foundation
import PropertyBased
import Testing

/// The cost model's crossover and the plan, each computed two ways.
struct PlanTests {
    /// n* is the first n where the polynomial method's flops fall below exact's.
    @Test func crossoverIsFirstWinningN() async throws {
        await propertyCheck(count: 300, input: Gen.int(in: 1...16), Gen.int(in: 1...16), Gen.int(in: 1...100_000),
                            Gen.double(in: 1...64)) { d, dv, r, kappa in
            let m = CostModel(expCost: kappa)
            let n = Int(m.crossover(d: d, valueCols: dv, rank: Double(r)))
            #expect(m.polyFlops(n: n, rank: Double(r), valueCols: dv) < m.exactFlops(n: n, d: d, valueCols: dv))
            if n > 1 {
                #expect(m.polyFlops(n: n - 1, rank: Double(r), valueCols: dv) >= m.exactFlops(n: n - 1, d: d, valueCols: dv))
            }
        }
    }

    /// The plan's degree and rank are the certified degree at R = s·d·B² and C(g + d, d).
    @Test func planMatchesCertifiedDegree() async throws {
        await propertyCheck(count: 200, input: Gen.int(in: 1...12), Gen.double(in: 0...3), Gen.double(in: -12 ... -1),
                            Gen.element(of: ExpFamily.allCases)) { d, B, le, f in
            let eps = pow(10, le)
            let p = try PolyPlan.make(n: 4096, d: d, entryBound: B, scale: .paper, epsilon: eps, family: f!)
            let R = ScoreRadius.fromEntryBound(B, d: d, scale: 1 / Double(d))
            #expect(p.degree == CertifiedExpBound.certifiedDegree(R: R, epsilon: eps, family: f!))
            #expect(p.rank == PolyRank.rankAsDouble(d: d, degree: p.degree))
            #expect(p.certifiedRelativeError <= eps)
            #expect(p.polyWins == (Double(p.n) >= p.crossoverN))
        }
    }
}
