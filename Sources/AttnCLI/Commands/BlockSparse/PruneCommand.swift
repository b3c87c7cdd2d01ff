import ArgumentParser
import AttnBlockSparse
import AttnCore
import AttnKernels
import AttnPruning
import Foundation

/// VisiPruner stages.
enum PruneMode: String, CaseIterable, ExpressibleByArgument {
    /// Text→vision attention zeroed (with --sink: the vision mass moves to that token).
    case shallow
    /// Keep vision tokens whose contribution to the last token is large.
    case middle
    /// Drop every vision token.
    case deep
}

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
    @Option(help: "Output CSV (one summary row; a .json sidecar is written beside it).") var out: String
    @Option(help: "Per-token CSV (token, is_vision, cosine, norm, kept).") var tokensOut: String?
    @Option(name: .customLong("output"), help: "Write the operator's output as .npy here.") var outputNpy: String?

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
        let n = k.rows
        guard Double(q.heads) * Double(q.rows) * Double(n) * 8 <= 4e9 else {
            throw AttnError.infeasible("the masked reference needs heads·n² Float64 weights (> 4 GB for \(q.heads) × \(n)²)")
        }
        let types = try TokenTypes(count: n, vision: try vision.map { try BlockSparseCLI.range($0, flag: "--vision") })
        let scale = inputs.scale, causal = inputs.causal
        var analysis: ContributionAnalysis?
        let output: Tensor<T>, reference: Tensor<Double>, flops: AttentionFlops, keep: [Bool]
        switch mode {
        case .shallow:
            (output, flops) = try VisiPruner.shallow(q: q, k: k, v: v, scale: scale, types: types, sink: sink, causal: causal)
            reference = try VisiPrunerReference.shallow(q: q, k: k, v: v, scale: scale, types: types, sink: sink, causal: causal)
            keep = [Bool](repeating: true, count: n)
        case .middle, .deep:
            let a = try VisiPruner.analyse(q: q, k: k, v: v, scale: scale, types: types, layerThreshold: layerThreshold,
                                           tokensThreshold: tokensThreshold)
            analysis = a
            keep = mode == .middle ? a.keep : types.isVision.map { !$0 }
            (output, flops) = try VisiPruner.prunedAttention(q: q, k: k, v: v, scale: scale, keep: keep, causal: causal)
            reference = try VisiPrunerReference.pruned(q: q, k: k, v: v, scale: scale, keep: keep, causal: causal)
        }
        let error = ErrorMetrics.maxAbsDiff(output, reference)
        if let path = outputNpy { try Npy.write(output, to: path) }
        if let tokensOut {
            var text = CSV.row(["token", "is_vision", "cosine", "norm", "kept"])
            for j in 0..<n {
                text += CSV.row([String(j), types.isVision[j] ? "1" : "0", analysis.map { CSV.number($0.cosines[j]) } ?? "",
                                 analysis.map { CSV.number($0.norms[j]) } ?? "", keep[j] ? "1" : "0"])
            }
            try AtomicFile.write(text, to: URL(fileURLWithPath: tokensOut))
        }
        let kept = keep.filter { $0 }.count
        let num = BlockSparseCLI.num
        let header = ["mode", "heads", "tokens", "vision_tokens", "kept_tokens", "pruned", "min_vision_cosine",
                      "max_abs_error", "flops_dense", "flops_pruned", "flops_saved_fraction"]
        let row = [mode.rawValue, String(q.heads), String(n), String(types.visionCount), String(kept),
                   analysis.map { $0.prune ? "1" : "0" } ?? "", analysis.map { num($0.minVisionCosine) } ?? "",
                   num(error), num(flops.dense), num(flops.pruned), num(flops.savedFraction)]
        try BlockSparseCLI.write(csvHeader: header, rows: [row], to: out, command: "prune", parameters: [
            ("q", .string(inputs.files.q)), ("k", .string(inputs.files.k)), ("v", .string(inputs.files.v)),
            ("scale", .string(scale.description)), ("causal", .bool(causal)), ("mode", .string(mode.rawValue)),
            ("vision", .array(vision.map { .string($0) })), ("sink", sink.map { .int($0) } ?? .null),
            ("layer_threshold", .double(layerThreshold)), ("tokens_threshold", .double(tokensThreshold)),
            ("precision", .string(precision.rawValue)),
        ], seed: nil)
        print("prune \(mode.rawValue): kept \(kept) of \(n) tokens, max error vs masked reference \(error), "
              + "attention FLOPs saved \(fmt(100 * flops.savedFraction))%; wrote \(out)")
    }
}
