import AttnCore
import AttnKernels
import AttnPoly
import Foundation
import PropertyBased
import Testing

/// The equal-rank baselines: Eckart–Young for the SVD, exactness of full
/// Nyström, determinism of the seeded methods, one interface for all.
struct BaselineTests {
    static func scores(_ p: Problem, scale: Scale) -> [Double] {
        exactScores(
            q: p.q.storage, k: p.k.storage, nq: p.q.rows, nk: p.k.rows, d: p.q.cols, scale: scale.value(d: p.q.cols))
    }

    /// ‖A' − Ã'_r‖₂ = σ_{r+1}(A'), the spectral norm computed by a second SVD.
    @Test func svdSpectralErrorIsNextSingularValue() async throws {
        await propertyCheck(
            count: 200, input: Gen.int(in: 0...1_000_000), Gen.int(in: 2...12), Gen.int(in: 2...12),
            Gen.double(in: 0.1...3), Gen.int(in: 1...11)
        ) { seed, nq, nk, B, r0 in
            let prob = Problem(seed: UInt64(seed), nq: nq, nk: nk, d: 3, dv: 1, bound: B)
            let x = Self.scores(prob, scale: .paper)
            let r = min(r0, min(nq, nk) - 1)
            let (f, sigma) = try SVDBaseline.factors(scores: x, rows: nq, keys: nk, rank: r)
            let m = x.max()!
            var diff = [Double](repeating: 0, count: nq * nk)
            for i in 0..<nq {
                for j in 0..<nk {
                    var p = 0.0
                    for c in 0..<r { p += f.left[i * r + c] * f.right[j * r + c] }
                    diff[i * nk + j] = exp(x[i * nk + j] - m) - p
                }
            }
            let spectral = try SVDBaseline.singularValues(matrix: diff, rows: nq, cols: nk).first ?? 0
            #expect(abs(spectral - sigma[r]) <= 1e-12 * sigma[0] + 1e-9 * sigma[r])
        }
    }

    /// With every query and key a landmark, Nyström reproduces A (when A is well conditioned).
    @Test func fullNystromIsExact() async throws {
        await propertyCheck(count: 100, input: Gen.int(in: 0...1_000_000), Gen.int(in: 1...6)) { seed, n in
            let prob = Problem(seed: UInt64(seed), nq: n, nk: n, d: 6, dv: 1, bound: 1)
            let x = Self.scores(prob, scale: .standard)
            let sigma = try SVDBaseline.singularValues(scores: x, rows: n, keys: n).sigma
            guard sigma.last! > 1e-6 * sigma[0] else { return }
            let f = try NystromBaseline.factors(
                q: prob.q.storage, k: prob.k.storage, nq: n, nk: n, d: 6,
                scale: Scale.standard.value(d: 6), rank: n, seed: UInt64(seed))
            #expect(f.maxRelativeEntryError(scores: x) <= 1e-6)
        }
    }

    /// Same seed, same output; Performer's Ã is entrywise positive.
    @Test func seededMethodsAreDeterministic() async throws {
        await propertyCheck(
            count: 60, input: Gen.int(in: 0...1_000_000), Gen.element(of: [ApproxMethod.performer, .nystrom]),
            Gen.int(in: 1...16)
        ) { seed, method, r in
            let prob = Problem(seed: UInt64(seed), heads: 2, nq: 16, nk: 16, d: 3, dv: 2, bound: 1)
            let o = ApproximationOptions(method: method!, request: .rank(r), seed: UInt64(seed))
            let a = try Approximation.run(q: prob.q, k: prob.k, v: prob.v, scale: .paper, options: o)
            let b = try Approximation.run(q: prob.q, k: prob.k, v: prob.v, scale: .paper, options: o)
            #expect(a.output == b.output)
            if method == .performer {
                let f = PerformerBaseline.factors(
                    q: prob.q.head(0).storage, k: prob.k.head(0).storage, nq: 16, nk: 16,
                    d: 3, scale: 1.0 / 3, rank: r, seed: 7)
                #expect(f.left.allSatisfy { $0 > 0 } && f.right.allSatisfy { $0 > 0 })
            }
        }
    }

    /// One interface: under `.epsilon` every method gets poly's rank (capped by n
    /// for svd and nystrom), and SVD's relative entry error at full rank is ~0.
    @Test func equalRankInterface() async throws {
        await propertyCheck(count: 40, input: Gen.int(in: 0...1_000_000), Gen.double(in: -8 ... -2)) { seed, le in
            let prob = Problem(seed: UInt64(seed), nq: 40, nk: 40, d: 2, dv: 2, bound: 1)
            let poly = try Approximation.run(
                q: prob.q, k: prob.k, v: prob.v, scale: .paper,
                options: ApproximationOptions(method: .poly, request: .epsilon(pow(10, le))))
            let r = poly.heads[0].rank
            for m in [ApproxMethod.svd, .performer, .nystrom] {
                let res = try Approximation.run(
                    q: prob.q, k: prob.k, v: prob.v, scale: .paper,
                    options: ApproximationOptions(method: m, request: .epsilon(pow(10, le))))
                #expect(res.heads[0].rank == (m == .performer ? r : min(r, 40)))
                #expect(res.maxRelativeEntryError != nil)
            }
            // Poly's measured entry error is within its certified relative error (plus rounding).
            #expect(poly.maxRelativeEntryError! <= poly.heads[0].certifiedRelativeError! + 1e-10)
            let exact = try Approximation.exact(q: prob.q, k: prob.k, v: prob.v, scale: .paper)
            #expect(ErrorMetrics.maxAbsDiff(poly.output, exact) <= poly.maxErrorBound! + 1e-12)
        }
    }

    @Test func svdRejectsLargeN() {
        #expect(throws: AttnError.self) {
            try SVDBaseline.factors(scores: [], rows: 5000, keys: 5000, rank: 3)
        }
    }

    /// Exactly one of a rank and an ε makes a request; neither or both is a usage error naming the rank.
    @Test func rankRequestNeedsExactlyOneOfRankAndEpsilon() throws {
        #expect(try RankRequest(rank: 5, epsilon: nil) == .rank(5))
        #expect(try RankRequest(rank: nil, epsilon: 1e-3) == .epsilon(1e-3))
        for (r, e) in [(nil, nil), (5, 1e-3)] as [(Int?, Double?)] {
            let error = #expect(throws: AttnError.self) { try RankRequest(rank: r, epsilon: e) }
            #expect(error?.parameter == .rank && error?.kind == .usage)
        }
    }
}
