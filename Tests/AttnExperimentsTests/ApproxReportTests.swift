import AttnCore
import AttnExperiments
import AttnPoly
import Testing

/// `ApproxReport` from a problem as read from files: the output keeps Q's leading axes, and a poly
/// bound that holds leaves the report without a failure (a violated one would exit 1, as `demo`).
struct ApproxReportTests {
    @Test func reportOfAFourDimensionalProblem() throws {
        var rng = Xoshiro256StarStar(seed: 3)
        let q: Tensor<Double> = InputDistribution.uniform.sample(heads: 2, rows: 24, cols: 3, bound: 0.5, using: &rng)
        let k: Tensor<Double> = InputDistribution.uniform.sample(heads: 1, rows: 20, cols: 3, bound: 0.5, using: &rng)
        let v: Tensor<Double> = InputDistribution.uniform.sample(heads: 1, rows: 20, cols: 2, bound: 0.5, using: &rng)
        let problem = try AttentionTensors(q: q, k: k, v: v)
        let options = ApproximationOptions(method: .poly, request: .epsilon(1e-4))
        let a = try ApproxReport(problem, scale: .paper, options: options)
        #expect(a.output.heads == 2 && a.output.rows == 24 && a.output.cols == 2)
        let r = a.report(out: "t.npy")
        #expect(r.failure == nil && r.command == "approx")
        #expect(r.text.first?.hasSuffix("wrote t.npy") == true)
        #expect(r.json == a.json(out: "t.npy"))
    }
}
