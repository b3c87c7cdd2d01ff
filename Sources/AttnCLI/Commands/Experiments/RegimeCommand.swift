import ArgumentParser
import AttnCore
import AttnExperiments
import AttnPoly

struct RegimeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regime",
        abstract: "Where do a model's heads sit against the B = Θ(√log n) threshold? Degree, rank and cost per head.",
        discussion: """
            Per (batch, head): B = max|entry| of Q and K, c = B/√ln n, the score radius, the certified degree for \
            relative error ε (as `plan`), the rank, the cost exponent (as `sweep`) and whether the polynomial \
            method beats exact attention; also at the paper's scale 1/d when --scale differs.
            """)

    @Option(help: "Queries: .npy [n_q, d], [heads, n_q, d] or [batch, heads, n_q, d].") var q: String
    @Option(help: "Keys: .npy [n_k, d], [heads_kv, n_k, d] or [batch, heads_kv, n_k, d]; heads_kv divides heads.")
    var k: String
    @Option(help: "Softmax scale: standard (1/√d, the default here), paper (1/d) or a decimal.") var scale = Scale
        .standard
    @Option(help: "Target sup relative error ε of the polynomial for exp, in (0, 1) (default: 1/n).") var eps: Double?
    @Option(help: "ε = n^(−p) instead of a fixed ε, p in (0, 8] (default 1).") var epsPower: Double?
    @Option(help: "Family of P, as in `plan`: chebyshev (default), interpolant, taylor or shifted.")
    var family = ExpFamily.chebyshev
    @OptionGroup var output: OutputOption
    @OptionGroup var format: JSONOption

    func run() throws {
        let options = try Regime.Options(scale: scale, epsilon: .init(fixed: eps, power: epsPower), family: family)
        let report = try Regime.run(q: q, k: k, options: options, progress: .make(label: "regime (heads)"))
        try emit(report, out: output.path, json: format.json)
    }
}
