import ArgumentParser
import AttnKit

struct AttentionCommand: ParsableCommand {
    static let configuration = command("attention", "Compute exact attention D⁻¹AV, A = exp(s·QKᵀ), of .npy inputs.")
    @OptionGroup var inputs: AttentionInputs
    @Option(help: "reference (Float64, O(n²) memory) or fast (fused).") var kernel = AttentionKernel.fast
    @Option(help: "Working precision of the fast kernel and dtype of the output.") var precision = Precision.float32
    @OptionGroup var output: OutputOption
    @Option(help: "Also write the per-row error bound .npy, Q's leading axes × n_q.") var boundOut: String?
    @Option(help: "Also write the row log-sum-exp .npy (natural log, Q's leading axes × n_q).") var lseOut: String?
    @OptionGroup var format: JSONOption
    @Option(name: .customLong("do"), help: "Upstream gradient dO .npy (the output's shape).") var upstream: String?
    @Option(help: "Write dQ here (.npy, Q's shape; needs --do).") var dqOut: String?
    @Option(help: "Write dK here (.npy, K's shape; needs --do).") var dkOut: String?
    @Option(help: "Write dV here (.npy, V's shape; needs --do).") var dvOut: String?
    func run() throws {
        var r = AttentionRequest(files: try inputs.files.set(), out: output.path, boundOut: boundOut)
        (r.scale, r.scoreModel, r.kernel, r.lseOut) = try (inputs.scale, inputs.scoreModel, kernel, lseOut)
        r.double = precision == .float64
        r.backward = BackwardRequest(upstream: upstream, dqOut: dqOut, dkOut: dkOut, dvOut: dvOut, kernel: kernel)
        let summary = try r.run()
        if format.json { print(summary.serialized()) }
    }
}

struct DemoCommand: ParsableCommand {
    static let configuration = command("demo", "Attention on seeded random inputs: fast vs reference, error vs bound.")
    @Option(help: "Sequence length n (n_q = n_k).") var n = 1024
    @Option(help: "Head dimension d.") var d = 64
    @Option(name: [.customLong("B"), .customLong("b")], help: "Entry bound B: inputs uniform in [−B, B].") var B = 1.0
    @Option(help: "Softmax scale: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.") var scale = Scale.standard
    @Option(help: "Inputs from an edge family instead of uniform [−B, B].") var family: EdgeFamily?
    @OptionGroup var seed: SeedOption
    @OptionGroup var format: JSONOption
    func run() throws {
        let p = Demo.Parameters(n: n, d: d, B: B, scale: scale, seed: seed.seed, family: family)
        try emit(Demo.run(p), out: nil, json: format.json)
    }
}
