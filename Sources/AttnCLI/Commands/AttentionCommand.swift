import ArgumentParser
import AttnKit

struct AttentionCommand: ParsableCommand {
    static let configuration = command("attention", "Compute exact attention D⁻¹AV, A = exp(s·QKᵀ), of .npy inputs.")
    @OptionGroup var inputs: AttentionInputs
    @Option(help: "reference (Float64, O(n²) memory) or fast (fused).") var kernel = AttentionKernel.fast
    @Option(help: "Working precision of the fast kernel and dtype of the output.") var precision = Precision.float32
    @OptionGroup var output: OutputOption
    @Option(help: "Also write each row's log-sum-exp (natural log) as .npy [batch, heads, n_q].") var lseOut: String?
    func validate() throws { if let l = lseOut { try validateOutputPath(l, flag: "--lse-out") } }
    func run() throws { try precision == .float32 ? write(Float.self) : write(Double.self) }
    func write<T: KernelScalar>(_: T.Type) throws {
        let (out, model) = (try output.required(), try inputs.scores.loadScoreModel())
        let r = try attentionWithLSE(
            inputs.files.problem(as: T.self), scale: inputs.scale, scoreModel: model, kernel: kernel)
        try Npy.write(r.output, to: out)
        if let lseOut { try Npy.write(r.lse, to: lseOut) }
    }
}

struct DemoCommand: ParsableCommand {
    static let configuration = command("demo", "Attention on seeded random inputs: fast vs reference, error vs bound.")
    @Option(help: "Sequence length n (n_q = n_k).") var n = 1024
    @Option(help: "Head dimension d.") var d = 64
    @Option(name: [.customLong("B"), .customLong("b")], help: "Entry bound B: inputs uniform in [−B, B].") var B = 1.0
    @Option(help: "Softmax scale: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.") var scale = Scale.standard
    @OptionGroup var seed: SeedOption
    @OptionGroup var format: JSONOption
    func run() throws {
        var p = Demo.Parameters()
        (p.n, p.d, p.B, p.scale, p.seed) = (n, d, B, scale, seed.seed)
        try emit(Demo.run(p), out: nil, json: format.json)
    }
}
