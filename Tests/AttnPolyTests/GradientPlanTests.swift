import AttnCore
import AttnPoly
import Foundation
import Testing

/// `GradientPlan`: the degree is the forward's certified degree, the ranks and exponent are the formulas
/// of its doc, and the method's crossover comes after the forward's (its rank has the extra factor d).
@Suite struct GradientPlanTests {
    @Test(arguments: [(256, 0.3), (4096, 0.8), (1 << 14, 1.5)])
    func ranksAndExponentAreTheFormulas(n: Int, c: Double) throws {
        let d = Int(log(Double(n)).rounded(.up)), B = c * log(Double(n)).squareRoot()
        let plan = try GradientPlan.make(n: n, d: d, entryBound: B, epsilon: 1 / Double(n))
        let forward = try PolyPlan.make(n: n, d: d, entryBound: B, scale: .paper, epsilon: 1 / Double(n))
        #expect(plan.degree == forward.degree && plan.k1 == forward.rank)
        #expect(plan.rank == plan.k1 * Double(d) && plan.paperRank == plan.k1 * (plan.k1 + Double(d)))
        #expect(abs(plan.exponent - (1 + log(plan.k1 * Double(d * d)) / log(Double(n)))) <= 1e-12)
        #expect(plan.crossoverN > forward.crossoverN)
        #expect(plan.polyWins == (plan.polyFlops < plan.exactFlops))
    }

    @Test func badArgumentsNameTheirParameter() throws {
        for (call, parameter) in [
            ({ try GradientPlan.make(n: 0, d: 4, entryBound: 1, epsilon: 0.1) }, Parameter.n),
            ({ try GradientPlan.make(n: 8, d: 0, entryBound: 1, epsilon: 0.1) }, .d),
            ({ try GradientPlan.make(n: 8, d: 4, entryBound: .nan, epsilon: 0.1) }, .B),
            ({ try GradientPlan.make(n: 8, d: 4, entryBound: 1, epsilon: 0) }, .epsilon),
            ({ try GradientPlan.make(n: 8, d: 4, entryBound: 9, epsilon: 1e-9, maxDegree: 3) }, .degree),
        ] as [(() throws -> GradientPlan, Parameter)] {
            do {
                _ = try call()
                Issue.record("expected an error for \(parameter)")
            } catch let e as AttnError {
                #expect(e.parameter == parameter)
            }
        }
    }
}
