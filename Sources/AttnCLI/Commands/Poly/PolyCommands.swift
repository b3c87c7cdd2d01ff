import ArgumentParser
import AttnKit

extension ExpFamily: ExpressibleByArgument {}
extension ApproxMethod: ExpressibleByArgument {}
extension ErrorRows: ExpressibleByArgument {}

struct PlanCommand: ParsableCommand {
    static let configuration = command(
        "plan", "Plan the polynomial method: certified degree, rank, flops, crossover.")
    @Option(help: "Sequence length n (n_q = n_k).") var n: Int
    @Option(help: "Head dimension d of Q and K.") var d: Int
    @Option(help: "Value dimension d_v (default: d).") var dv: Int?
    @Option(name: .customLong("B"), help: "Entry bound B: every entry of Q, K, V lies in [−B, B].") var B: Double
    @Option(help: "Target sup relative error ε of the polynomial on [−R, R].") var eps: Double
    @Option(help: "Softmax scale: paper (1/d, the default here), standard (1/√d) or a decimal.") var scale = Scale.paper
    @Option(help: "Family of P: taylor, chebyshev (default), interpolant or shifted.") var family = ExpFamily.chebyshev
    @OptionGroup var format: JSONOption
    func run() throws {
        let plan = try PolyPlan.make(
            n: n, d: d, valueCols: dv, entryBound: B, scale: scale, epsilon: eps, family: family)
        try emit(plan.report(scale: scale), out: nil, json: format.json)
    }
}

struct ApproxCommand: ParsableCommand {
    static let configuration = command(
        "approx", "Approximate attention (Float64) with its bound and measured error.",
        discussion: "Under --eps the other methods take poly's rank C(g + d, d); under --rank, every method.")
    @Option(help: "poly (Alman–Song), svd (small n), performer (FAVOR+) or nystrom.") var method: ApproxMethod
    @Option(help: "Rank budget r (exclusive with --eps).") var rank: Int?
    @Option(help: "Target relative error ε of the polynomial (exclusive with --rank).") var eps: Double?
    @Option(help: "Family of P: taylor, chebyshev (default), interpolant or shifted.") var family = ExpFamily.chebyshev
    @OptionGroup var files: AttentionFiles
    @Option(help: "Softmax scale: paper (1/d, the default here), standard (1/√d) or a decimal.") var scale = Scale.paper
    @Option(help: "Seed of the random features (performer) and landmarks (nystrom).") var seed: UInt64 = 0
    @Option(help: "Rows measured: all, or K seeded rows per head (default: 64 past 2048²).") var errorRows: ErrorRows?
    @OptionGroup var output: OutputOption
    @OptionGroup var format: JSONOption
    func run() throws {
        let out = try output.required()
        let options = try ApproximationOptions(
            method: method, request: RankRequest(rank: rank, epsilon: eps), family: family, seed: seed)
        let report = try ApproxReport(files.problem(as: Double.self), scale: scale, options: options, rows: errorRows)
        try Npy.write(report.output, to: out)
        try emit(report.report(out: out), out: nil, json: format.json)
    }
}
