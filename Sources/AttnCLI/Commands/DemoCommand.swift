import ArgumentParser
import AttnCore
import AttnKernels

/// `attnbound demo`: attention on generated inputs, with a short summary.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Compute attention on seeded random inputs and summarise: fast vs reference, error vs bound.")

    @Option(help: "Sequence length n (n_q = n_k).")
    var n: Int = 1024

    @Option(help: "Head dimension d.")
    var d: Int = 64

    @Option(help: "Entry bound B: inputs uniform in [−B, B].")
    var B: Double = 1

    @Option(help: "Softmax scale: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.")
    var scale: Scale = .standard

    @Option(help: "Seed of the input generator (xoshiro256**).")
    var seed: UInt64 = 1

    func validate() throws {
        guard (1...8192).contains(n) else { throw ValidationError("--n must be in 1...8192") }
        guard (1...512).contains(d) else { throw ValidationError("--d must be in 1...512") }
        guard B.isFinite, B >= 0 else { throw ValidationError("--B must be finite and ≥ 0") }
    }

    func run() throws {
        let (q, k, v) = InputDistribution.uniform.attentionInputs(queries: n, keys: n, d: d, bound: B, seed: seed,
                                                                   as: Float.self)
        var fast = Tensor<Float>(rows: 0, cols: 0)
        let tFast = try Timing.seconds { fast = try FastAttention.compute(q: q, k: k, v: v, scale: scale) }
        var ref = Tensor<Double>(rows: 0, cols: 0)
        let tRef = try Timing.seconds { ref = try ReferenceAttention.compute(q: q, k: k, v: v, scale: scale) }
        let err = ErrorMetrics.maxAbsDiff(fast, ref)
        let bound = ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: scale).max() ?? 0
        print("attnbound demo: n = \(n), d = \(d), B = \(B), scale = \(scale), seed = \(seed)")
        print("  fast Float32 kernel     \(fmt(tFast, 4)) s")
        print("  reference Float64       \(fmt(tRef, 4)) s")
        print("  max |fast − reference|  \(err)")
        print("  a-priori bound          \(bound)  (\(err <= bound ? "holds" : "VIOLATED"))")
        // A check that ran and failed exits 1 (AttnKit.docc/Conventions.md, "Exit codes"), so scripts notice.
        guard err <= bound else { throw AttnError.checkFailed("max |fast − reference| \(err) exceeds the a-priori bound \(bound)") }
    }
}
