import ArgumentParser
import AttnKit

struct AttentionCommand: ParsableCommand {
    static let configuration = command("attention", "Compute exact attention D⁻¹AV, A = exp(s·QKᵀ), of .npy inputs.")
    @OptionGroup var inputs: AttentionInputs
    @Option(help: "reference (Float64, O(n²) memory) or fast (fused).") var kernel = AttentionKernel.fast
    @Option(help: "Working precision of the fast kernel and dtype of the output.") var precision = Precision.float32
    @OptionGroup var output: OutputOption
    func run() throws {
        let out = try output.required()
        switch precision {
        case .float32: try Npy.write(attention(Float.self), to: out)
        case .float64: try Npy.write(attention(Double.self), to: out)
        }
    }
    func attention<T: KernelScalar>(_: T.Type) throws -> Tensor<T> {
        try AttnKernels.attention(
            inputs.files.problem(as: T.self), scale: inputs.scale, scoreModel: inputs.scoreModel, kernel: kernel)
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
