import AttnCore
import AttnKernels
import Foundation

/// `prune` as one request: one VisiPruner operator on one layer's Q, K, V files (tokens = rows,
/// n_q = n_k), given the vision token ranges, checked against its masked reference
/// (`PruneEvaluation`).
public struct PruneRequest: Sendable {
    /// Where Q, K, V come from (`.npy`, `FILE:NAME` or a tensor file), read by `AttentionTensors`
    /// (K, V expanded to one head per query head).
    public var files: TensorFiles
    public var scale: Scale = .standard
    /// The mask: none or causal (`VisiPruner.requireTokenMask`).
    public var scoreModel = ScoreModel.plain
    /// Vision token ranges, half open (at least one).
    public var vision: [Range<Int>] = []
    public var mode: PruneMode
    /// `shallow`: the token that receives the text queries' vision mass (nil: the mass is dropped).
    public var sink: Int?
    /// `middle`: prune when some vision token has cos(o − c_j, o) below `layerThreshold`; keep
    /// vision tokens with ‖c_j‖₂ above `tokensThreshold`.
    public var layerThreshold = 0.995, tokensThreshold = 0.2

    public init(files: TensorFiles, mode: PruneMode) { (self.files, self.mode) = (files, mode) }

    /// Q, K, V from `.npy` paths.
    public init(q: String, k: String, v: String, mode: PruneMode) {
        self.init(files: TensorFiles(explicit: ["q": q, "k": k, "v": v]), mode: mode)
    }

    /// - Throws: `AttnError.usage` naming the parameter out of range.
    public func validate() throws {
        try Parameter.vision.require(!vision.isEmpty, "give at least one START:END range")
        try Parameter.sink.require((sink ?? 0) >= 0, "must be ≥ 0")
        try Parameter.sink.require(sink == nil || mode == .shallow, "applies to the shallow mode only")
        try Parameter.layerThreshold.require(layerThreshold.isFinite, "must be finite")
        try Parameter.tokensThreshold.require(
            tokensThreshold.isFinite && tokensThreshold >= 0, "must be finite and ≥ 0")
    }

    /// Reads the inputs, runs the operator and its reference at working precision `T`.
    /// - Returns: the report (one summary row) and the evaluation (its output and per-token CSV).
    public func run<T: KernelScalar>(as _: T.Type) throws -> (report: RunReport, evaluation: PruneEvaluation<T>) {
        try validate()
        let p = try AttentionTensors<T>(files: files)
        let (keys, values) = p.expandedKV
        let types = try TokenTypes(count: keys.rows, vision: vision)
        let r = try PruneEvaluation(
            q: p.q, k: keys, v: values, scale: scale, scoreModel: scoreModel, types: types, mode: mode, sink: sink,
            layerThreshold: layerThreshold, tokensThreshold: tokensThreshold)
        let params: [(String, JSONValue)] = [
            ("q", try source("q")), ("k", try source("k")), ("v", try source("v")),
            ("scale", .string(scale.description)),
            ("causal", .bool(scoreModel.mask.isCausal)), ("mode", .string(mode.rawValue)),
            ("vision", .array(vision.map { .string("\($0.lowerBound):\($0.upperBound)") })),
            ("sink", sink.map { .int($0) } ?? .null), ("layer_threshold", .double(layerThreshold)),
            ("tokens_threshold", .double(tokensThreshold)), ("precision", .string(T.dtypeName)),
        ]
        let text =
            "prune \(mode.rawValue): kept \(r.keptCount) of \(keys.rows) tokens, max error vs masked reference "
            + "\(r.maxAbsError), attention FLOPs saved \(TextFormat.fixed(100 * r.flops.savedFraction, 1))%"
        let report = RunReport(
            command: "prune", parameters: params,
            table: .init(header: PruneEvaluation<T>.summaryHeader, rows: [r.summaryRow]), text: [text])
        return (report, r)
    }
}

extension PruneRequest {
    /// The recorded source of a role ("q", "k", "v").
    func source(_ role: String) throws -> JSONValue {
        .string(try files.source(role, required: true, parameter: Parameter(rawValue: role))?.description ?? "")
    }
}
