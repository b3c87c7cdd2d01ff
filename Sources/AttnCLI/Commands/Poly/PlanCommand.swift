import ArgumentParser
import AttnCore
import AttnPoly

/// `attnbound plan`: degree, rank, cost and crossover of the polynomial method.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan the polynomial method: degree, rank, flops and memory vs exact, crossover n.",
        discussion: """
            Entries of Q, K, V lie in [−B, B]; with scale s every score lies in [−R, R], R = s·d·B². \
            The degree is the smallest g whose certified bound on sup |P(x) − eˣ|/eˣ over [−R, R] is ≤ ε; \
            the Aggarwal–Alman degree Θ(max(2R, ln(1/ε)/ln(ln(1/ε)/2R))) (constant 1) is printed beside it. \
            The default scale here is 'paper' (s = 1/d, Alman–Song).
            """)

    @Option(help: "Sequence length n (n_q = n_k).")
    var n: Int

    @Option(help: "Head dimension d of Q and K.")
    var d: Int

    @Option(name: .customLong("dv"), help: "Value dimension d_v (default: d).")
    var dv: Int?

    @Option(name: .customLong("B"), help: "Entry bound B: every entry of Q, K, V lies in [−B, B].")
    var B: Double

    @Option(help: "Target sup relative error ε of the polynomial on [−R, R].")
    var eps: Double

    @Option(help: "Softmax scale s: 'paper' (1/d, Alman–Song; the default here), 'standard' (1/√d) or a positive decimal.")
    var scale: Scale = .paper

    @Option(help: "Polynomial family: taylor, chebyshev (truncated series, near-minimax, the default), interpolant (Chebyshev points) or shifted (non-negative, Alman–Song).")
    var family: ExpFamily = .chebyshev

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        guard n >= 1 else { throw ValidationError("--n must be ≥ 1") }
        guard (1...4096).contains(d) else { throw ValidationError("--d must be in 1...4096") }
        if let dv { guard (1...65536).contains(dv) else { throw ValidationError("--dv must be in 1...65536") } }
        guard B.isFinite, B >= 0 else { throw ValidationError("--B must be finite and ≥ 0") }
        guard eps.isFinite, eps > 0 else { throw ValidationError("--eps must be positive and finite") }
    }

    func run() throws {
        let p = try PolyPlan.make(n: n, d: d, valueCols: dv, entryBound: B, scale: scale, epsilon: eps, family: family)
        print(json ? p.json(scale: scale).serialized() : p.text(scale: scale))
    }
}
