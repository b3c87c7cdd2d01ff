import AttnCore
import AttnPoly
import Foundation
import PropertyBased
import Testing

/// The rank count C(g + d, d) and the feature-map identity ⟨u₁(q), u₂(k)⟩ = P̂(s⟨q,k⟩).
struct RankAndFeatureTests {
    @Test func rankMatchesMonomialCountAndPascal() async throws {
        await propertyCheck(count: 300, input: Gen.int(in: 1...9), Gen.int(in: 0...12)) { d, g in
            let r = PolyRank.rank(d: d, degree: g)!
            #expect(MonomialTable(variables: d, degree: g).count == r)
            if g >= 1 {
                // C(g+d, d) = C(g−1+d, d) + C(g+d−1, d−1).
                #expect(r == PolyRank.rank(d: d, degree: g - 1)! + PolyRank.rank(d: d - 1, degree: g)!)
            }
            #expect(abs(PolyRank.logRank(d: d, degree: g) - log(Double(r))) <= 1e-9 * max(1, log(Double(r))))
        }
    }

    @Test func rankEdgeCases() {
        #expect(PolyRank.rank(d: 4, degree: 7) == 330)
        #expect(PolyRank.rank(d: 0, degree: 50) == 1)
        #expect(PolyRank.rank(d: 60, degree: 60) == nil)  // C(120, 60) ≈ 9.7·10³⁴ > Int.max
        #expect(PolyRank.rank(d: 30, degree: 30) == 118_264_581_564_861_424)  // C(60, 30), fits
        #expect(PolyRank.rank(d: 100, degree: 100) == nil)  // C(200, 100) ≈ 9·10⁵⁸ > Int.max
        #expect(PolyRank.largestDegree(d: 4, maxRank: 330) == 7)
        #expect(PolyRank.largestDegree(d: 4, maxRank: 329) == 6)
        #expect(PolyRank.largestDegree(d: 4, maxRank: 0) == nil)
    }

    /// Multinomial weights: Σ over monomials of degree t of |α|!/α! equals dᵗ.
    @Test func multinomialsSumToPowers() async throws {
        await propertyCheck(count: 100, input: Gen.int(in: 1...6), Gen.int(in: 0...10)) { d, g in
            let table = MonomialTable(variables: d, degree: g)
            for t in 0...g {
                var sum = 0.0
                for a in 0..<table.count where table.totalDegree[a] == t { sum += table.multinomial[a] }
                #expect(sum == pow(Double(d), Double(t)))
            }
        }
    }

    /// U₁U₂ᵀ entry = P̂(s⟨q,k⟩) by Horner, for every family.
    @Test func featureInnerProductIsPolynomial() async throws {
        await propertyCheck(
            count: 300, input: Gen.element(of: ExpFamily.allCases), Gen.int(in: 1...4),
            Gen.int(in: 0...10), Gen.double(in: 0...2), Gen.int(in: 0...1_000_000)
        ) { f, d, g, B, seed in
            let prob = Problem(seed: UInt64(seed), nq: 3, nk: 3, d: d, dv: 1, bound: B)
            let s = Scale.paper.value(d: d)
            let R = ScoreRadius.fromEntryBound(B, d: d, scale: s)
            let p = try ExpPolynomial(family: f!, radius: R, degree: g)
            let factors = Approximation.polyFactors(
                p, q: prob.q.storage, k: prob.k.storage, nq: 3, nk: 3, d: d, scale: s)
            for i in 0..<3 {
                for j in 0..<3 {
                    var dot = 0.0
                    for c in 0..<d { dot += prob.q[0, i, c] * prob.k[0, j, c] }
                    let x = s * dot
                    var viaFeatures = 0.0
                    for a in 0..<factors.rank {
                        viaFeatures += factors.left[i * factors.rank + a] * factors.right[j * factors.rank + a]
                    }
                    let scaleOfTerms = p.absoluteMajorant(at: abs(x)) + p.absoluteMajorant(at: R)
                    #expect(abs(viaFeatures - p.evaluate(x)) <= 1e-12 * scaleOfTerms)
                }
            }
        }
    }
}
