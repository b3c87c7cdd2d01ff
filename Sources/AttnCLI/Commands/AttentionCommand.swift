import ArgumentParser
import AttnKit

struct AttentionCommand: ParsableCommand {
    static let configuration = command("attention", "Compute exact attention D⁻¹AV, A = exp(s·QKᵀ), of .npy inputs.")
    @OptionGroup var inputs: AttentionInputs
    @Option(help: "reference (Float64, O(n²) memory) or fast (fused).") var kernel = AttentionKernel.fast
    @Option(help: "Working precision of the fast kernel and dtype of the output.") var precision = Precision.float32
    @OptionGroup var output: OutputOption
    @Option(help: "Also write the per-row error bound .npy, Q's leading axes × n_q.") var boundOut: String?
    @OptionGroup var format: JSONOption
    func run() throws { try precision == .float32 ? attention(Float.self) : attention(Double.self) }
    func attention<T: KernelScalar>(_: T.Type) throws {
        let r = try kernel.run(inputs.files.problem(as: T.self), scale: inputs.scale, scoreModel: inputs.scoreModel)
        try Npy.write(r.output, to: output.required())
        if let boundOut { try Npy.write(r.rowBounds.tensor(like: r.output), to: boundOut) }
        let json: JSONValue = .object([("kernel", .string("\(kernel)")), ("max_error_bound", .double(r.maxErrorBound))])
        if format.json { print(json.serialized()) }
    }
}

struct DemoCommand: ParsableCommand {
    static let configuration = command("demo", "Attention on seeded random inputs: fast vs reference, error vs bound.")
    @Option(help: "Sequence length n (n_q = n_k).") var n = 1024
    @Option(help: "Head dimension d.") var d = 64
    @Option(name: [.customLong("B"), .customLong("b")], help: "Entry bound B: inputs uniform in [−B, B].") var B = 1.0
    @Option(help: "Softmax scale: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.") var scale = Scale.standard
    @Option(help: "Inputs from an edge family instead: \(EdgeFamily.allCases.map(\.rawValue).joined(separator: ", ")).")
    var family: EdgeFamily?
    @OptionGroup var seed: SeedOption
    @OptionGroup var format: JSONOption
    func run() throws {
        var p = Demo.Parameters()
        (p.n, p.d, p.B, p.scale, p.seed, p.family) = (n, d, B, scale, seed.seed, family)
        try emit(Demo.run(p), out: nil, json: format.json)
    }
}
