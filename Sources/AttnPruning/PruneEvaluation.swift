import AttnCore
import AttnKernels
import Foundation

/// VisiPruner stages.
public enum PruneMode: String, Sendable, CaseIterable {
    /// Text→vision attention zeroed (with a sink: the vision mass moves to that token).
    case shallow
    /// Keep vision tokens whose contribution to the last token is large.
    case middle
    /// Drop every vision token.
    case deep
}

/// One VisiPruner operator on one layer's inputs, checked against its masked reference
/// (`VisiPrunerReference`, Float64 weights with an explicit mask): what `prune` reports.
/// Checked by `VisiPrunerTests` and `BlockSparseCLITests`.
public struct PruneEvaluation<T: KernelScalar>: Sendable {
    public let mode: PruneMode
    public let output: Tensor<T>
    /// max |output − masked reference|.
    public let maxAbsError: Double
    public let flops: AttentionFlops
    /// Per key token: kept or not.
    public let keep: [Bool]
    /// The middle-layer analysis (nil for `shallow`).
    public let analysis: ContributionAnalysis?
    public let types: TokenTypes
    public let heads: Int

    /// - Throws: `AttnError.infeasible` when the masked reference's heads·n² Float64 weights exceed 4 GB,
    ///   and the operators' errors.
    public init(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale, scoreModel: ScoreModel, types: TokenTypes,
        mode: PruneMode, sink: Int?, layerThreshold: Double, tokensThreshold: Double
    ) throws {
        try VisiPruner.requireTokenMask(scoreModel)
        let n = k.rows
        guard Double(q.heads) * Double(q.rows) * Double(n) * 8 <= 4e9 else {
            throw AttnError.infeasible(
                "the masked reference needs heads·n² Float64 weights (> 4 GB for \(q.heads) × \(n)²)")
        }
        let reference: Tensor<Double>
        switch mode {
        case .shallow:
            (output, flops) = try VisiPruner.shallow(
                q: q, k: k, v: v, scale: scale, types: types, sink: sink,
                scoreModel: scoreModel)
            reference = try VisiPrunerReference.shallow(
                q: q, k: k, v: v, scale: scale, types: types, sink: sink,
                scoreModel: scoreModel)
            keep = [Bool](repeating: true, count: n)
            analysis = nil
        case .middle, .deep:
            let a = try VisiPruner.analyse(
                q: q, k: k, v: v, scale: scale, types: types,
                layerThreshold: layerThreshold, tokensThreshold: tokensThreshold)
            analysis = a
            keep = mode == .middle ? a.keep : types.isVision.map { !$0 }
            (output, flops) = try VisiPruner.prunedAttention(
                q: q, k: k, v: v, scale: scale, keep: keep, scoreModel: scoreModel)
            reference = try VisiPrunerReference.pruned(
                q: q, k: k, v: v, scale: scale, keep: keep, scoreModel: scoreModel)
        }
        maxAbsError = ErrorMetrics.maxAbsDiff(output, reference)
        (self.mode, self.types, heads) = (mode, types, q.heads)
    }

    public var keptCount: Int { keep.filter { $0 }.count }

    /// The one-row summary CSV.
    public static var summaryHeader: [String] {
        [
            "mode", "heads", "tokens", "vision_tokens", "kept_tokens", "pruned", "min_vision_cosine", "max_abs_error",
            "flops_dense", "flops_pruned", "flops_saved_fraction",
        ]
    }

    public var summaryRow: [String] {
        let num = CSV.number
        return [
            mode.rawValue, String(heads), String(keep.count), String(types.visionCount), String(keptCount),
            analysis.map { $0.prune ? "1" : "0" } ?? "", analysis.map { num($0.minVisionCosine) } ?? "",
            num(maxAbsError), num(flops.dense), num(flops.pruned), num(flops.savedFraction),
        ]
    }

    /// The per-token CSV: token, is_vision, cosine, norm, kept (cosine and norm empty for `shallow`).
    public var tokensCSV: String {
        var text = CSV.row(["token", "is_vision", "cosine", "norm", "kept"])
        for j in 0..<keep.count {
            text += CSV.row([
                String(j), types.isVision[j] ? "1" : "0", analysis.map { CSV.number($0.cosines[j]) } ?? "",
                analysis.map { CSV.number($0.norms[j]) } ?? "", keep[j] ? "1" : "0",
            ])
        }
        return text
    }
}
