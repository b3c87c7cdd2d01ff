import ArgumentParser
import AttnBlockSparse
import AttnCore
import AttnKernels
import AttnPruning
import Foundation

extension PruneMode: ExpressibleByArgument {}

/// `attnbound prune`: one VisiPruner-style operator on one layer's inputs,
/// checked against its masked reference.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "VisiPruner-style token pruning operators.",
        discussion: """
            Applies one operator to a layer's Q, K, V (tokens = rows; n_q = n_k) given the vision token \
            ranges, compares it with its masked reference (ReferenceAttention weights with an explicit \
            mask, Float64) and writes a one-row CSV: tokens kept, max |error|, attention FLOPs dense and \
            pruned. --tokens-out adds the per-token cosine and contribution norm of the middle-layer test.
            """)

    @OptionGroup var inputs: AttentionInputs

    @Option(help: "Vision token range START:END, half open (repeatable; at least one).") var vision: [String] = []
    @Option(help: "Operator: shallow, middle or deep.") var mode: PruneMode
    @Option(help: "shallow: token that receives the text queries' vision mass (default: none, the mass is dropped).")
    var sink: Int?
    @Option(help: "middle: prune when some vision token has cos(o − c_j, o) below this.") var layerThreshold = 0.995
    @Option(help: "middle: keep vision tokens with ‖c_j‖₂ above this.") var tokensThreshold = 0.2
    @Option(help: "Working precision: float32 or float64.") var precision: Precision = .float32
    @Option(name: [.customLong("out"), .short], help: "Output CSV (one summary row; a .json sidecar is written beside it).") var out: String
    @Option(help: "Per-token CSV (token, is_vision, cosine, norm, kept).") var tokensOut: String?
    @Option(name: .customLong("npy-out"), help: "Write the operator's output as .npy here.") var npyOut: String?
    @Option(name: .customLong("output"), help: .hidden) var legacyNpyOut: String?
    var outputNpy: String? { npyOut ?? legacyNpyOut }

    func validate() throws {
        try validateOutputPath(out, flag: "--out")
        if let t = tokensOut { try validateOutputPath(t, flag: "--tokens-out") }
        if let o = outputNpy { try validateOutputPath(o, flag: "--output") }
        guard !vision.isEmpty else { throw ValidationError("--vision: give at least one START:END range") }
        for r in vision { _ = try BlockSparseCLI.range(r, flag: "--vision") }
        if let s = sink, s < 0 { throw ValidationError("--sink must be ≥ 0") }
        if sink != nil && mode != .shallow { throw ValidationError("--sink applies to --mode shallow only") }
        guard layerThreshold.isFinite, tokensThreshold.isFinite, tokensThreshold >= 0 else {
            throw ValidationError("--layer-threshold must be finite and --tokens-threshold finite and ≥ 0")
        }
    }

    func run() throws {
        switch precision {
        case .float32: try run(as: Float.self)
        case .float64: try run(as: Double.self)
        }
    }

    func run<T: KernelScalar>(as: T.Type) throws {
        let (q, k, v) = try inputs.load(as: T.self)
        let types = try TokenTypes(count: k.rows, vision: try vision.map { try BlockSparseCLI.range($0, flag: "--vision") })
        let (scale, causal) = (inputs.scale, inputs.causal)
        let r = try PruneEvaluation(q: q, k: k, v: v, scale: scale, causal: causal, types: types, mode: mode, sink: sink,
                                    layerThreshold: layerThreshold, tokensThreshold: tokensThreshold)
        if let path = outputNpy { try Npy.write(r.output, to: path) }
        if let tokensOut { try AtomicFile.write(r.tokensCSV, to: URL(fileURLWithPath: tokensOut)) }
        try BlockSparseCLI.write(csvHeader: PruneEvaluation<T>.summaryHeader, rows: [r.summaryRow], to: out, command: "prune", parameters: [
            ("q", .string(inputs.files.q)), ("k", .string(inputs.files.k)), ("v", .string(inputs.files.v)),
            ("scale", .string(scale.description)), ("causal", .bool(causal)), ("mode", .string(mode.rawValue)),
            ("vision", .array(vision.map { .string($0) })), ("sink", sink.map { .int($0) } ?? .null),
            ("layer_threshold", .double(layerThreshold)), ("tokens_threshold", .double(tokensThreshold)),
            ("precision", .string(precision.rawValue)),
        ], seed: nil)
        print("prune \(mode.rawValue): kept \(r.keptCount) of \(k.rows) tokens, max error vs masked reference \(r.maxAbsError), "
              + "attention FLOPs saved \(fmt(100 * r.flops.savedFraction))%; wrote \(out)")
    }
}
