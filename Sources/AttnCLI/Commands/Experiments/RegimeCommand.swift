import ArgumentParser
import AttnCore
import AttnExperiments
import AttnPoly
import Foundation

/// `attnbound regime`: where each head of a model sits against the B = Θ(√log n)
/// threshold. Validates, calls `Regime.analyze`, writes (`RegimeReport`).
struct RegimeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regime",
        abstract: "Where do a model's heads sit against the B = Θ(√log n) threshold? Degree, rank and cost per head.",
        discussion: """
            For every (batch, head): n, d, B = max|entry| of Q and K, c = B/√ln n, the score radius \
            R = s·max‖q‖·max‖k‖, the largest |s·q·k| with a proved error bound, the certified degree for \
            relative error ε of exp on [−R, R] (as `plan`), the rank C(g+d, d), the cost exponent \
            log_n(n·r·d) (as `sweep`), and whether and from which n the polynomial method beats exact \
            attention (cost model with d_v = d). Also at the paper's scale 1/d when --scale differs.
            """)

    @Option(help: "Queries: .npy of shape [n_q, d], [heads, n_q, d] or [batch, heads, n_q, d].")
    var q: String

    @Option(help: "Keys: .npy of shape [n_k, d], [heads_kv, n_k, d] or [batch, heads_kv, n_k, d]; heads_kv divides heads (GQA).")
    var k: String

    @Option(help: "Softmax scale s: 'standard' (1/√d, the default here, as in PyTorch), 'paper' (1/d) or a positive decimal.")
    var scale: Scale = .standard

    @Option(help: "Target sup relative error ε of the polynomial for exp, in (0, 1) (default: ε = 1/n, as in the sweep).")
    var eps: Double?

    @Option(name: .customLong("eps-power"), help: "ε = n^(−p) instead of a fixed ε, p in (0, 8] (default 1).")
    var epsPower: Double?

    @Option(help: "Polynomial family, as in `plan`: chebyshev (default), interpolant, taylor or shifted.")
    var family: ExpFamily = .chebyshev

    @Option(name: [.short, .long], help: "CSV output, one row per (batch, head, scale); sidecar beside it (same stem, .json).")
    var out: String?

    @Flag(help: "Print one JSON object (parameters, summary, every row) instead of a table.")
    var json = false

    func validate() throws {
        if eps != nil, epsPower != nil { throw ValidationError("--eps and --eps-power exclude each other") }
        if let eps { guard eps.isFinite, eps > 0, eps < 1 else { throw ValidationError("--eps must be in (0, 1)") } }
        if let p = epsPower { guard p.isFinite, p > 0, p <= 8 else { throw ValidationError("--eps-power must be in (0, 8]") } }
        if let out { try validateOutputPath(out, flag: "--out") }
    }

    func run() throws {
        let (tq, tk): (Tensor<Double>, Tensor<Double>) = (try Npy.read(q), try Npy.read(k))  // float32 widens exactly
        let options = Regime.Options(scale: scale, epsilon: eps.map { .fixed($0) } ?? .power(epsPower ?? 1),
                                     family: family)
        let progress = ProgressLine.make(label: "regime (heads)")  // only on a terminal
        let heads = try Regime.analyze(q: tq, k: tk, options: options) { done, total in
            progress?.update(done: done, total: total, fraction: Double(done) / Double(total))
        }
        progress?.finish()
        let report = RegimeReport(heads: heads, options: options)
        if let out {
            try report.write(csv: URL(fileURLWithPath: out), version: Attnbound.version,
                             argv: CommandLine.arguments, inputs: [("q", q), ("k", k)])
        }
        print(json ? report.json.serialized() : report.table)
    }
}
