import ArgumentParser
import AttnCore
import AttnKernels

/// `attnbound attention`: exact attention of .npy inputs, written as .npy.
struct AttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Compute exact attention D⁻¹AV, A = exp(s·QKᵀ), of .npy inputs.")

    @OptionGroup var inputs: AttentionInputs

    @Option(help: "Kernel: 'reference' (Float64, O(n²) memory) or 'fast' (tiled online softmax, BLAS).")
    var kernel: AttentionKernel = .fast

    @Option(help: "Working precision of the fast kernel and dtype of the output: float32 or float64.")
    var precision: Precision = .float32

    @Option(help: "Output .npy path (written to a temp file, then renamed).")
    var out: String

    func validate() throws {
        try validateOutputPath(out, flag: "--out")
    }

    func run() throws {
        switch precision {
        case .float32:
            let (q, k, v) = try inputs.load(as: Float.self)
            let o = try attention(q: q, k: k, v: v, scale: inputs.scale, causal: inputs.causal, kernel: kernel)
            try Npy.write(o.withLeadingAxes(of: q), to: out)
        case .float64:
            let (q, k, v) = try inputs.load(as: Double.self)
            let o = try attention(q: q, k: k, v: v, scale: inputs.scale, causal: inputs.causal, kernel: kernel)
            try Npy.write(o.withLeadingAxes(of: q), to: out)
        }
    }
}
