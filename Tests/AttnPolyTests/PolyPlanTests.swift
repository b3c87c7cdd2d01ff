import AttnCore
import AttnPoly
import Foundation
import PropertyBased
import Testing

/// The plan, computed two ways.
struct PolyPlanTests {
    /// The plan's degree and rank are the certified degree at R = s·d·B² and C(g + d, d).
    @Test func planMatchesCertifiedDegree() async throws {
        await propertyCheck(
            count: 200, input: Gen.int(in: 1...12), Gen.double(in: 0...3), Gen.double(in: -12 ... -1),
            Gen.element(of: ExpFamily.allCases)
        ) { d, B, le, f in
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
