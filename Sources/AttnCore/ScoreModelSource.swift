import Foundation

/// A score model as a front end names it: flags, values and file paths, parsed and validated
/// here (the library), so that every command reads them one way: a front end's option group
/// conforms, and `loadScoreModel()` returns the model (`ScoreModelFiles` is the plain struct).
///
/// The spellings are the CLI's (`--causal`, `--align`, `--window L,R`, `--mask M.npy`,
/// `--bias B.npy`, `--alibi SLOPES`, `--softcap C`, `--sinks S.npy`); each error names the
/// parameter at fault (`.window`, `.mask`, `.bias`, `.alibi`, `.softcap`, `.sinks`).
public protocol ScoreModelSource {
    /// The causal window (∞, 0) (`AttentionWindow.causal`) when the front end asks for the causal
    /// mask, else nil; intersected with `window` when both are given.
    var causalWindow: AttentionWindow? { get }
    var align: MaskAlignment { get }
    /// "L,R" with integers ≥ 0 or `inf` (FlashAttention's `window_size`, where −1 is `inf`).
    var window: String? { get }
    /// .npy of bool, uint8 or integer; nonzero = visible; broadcasts over [batch, heads, n_q, n_k].
    var mask: String? { get }
    /// .npy of floats; broadcasts over [batch, heads, n_q, n_k]; added after the softcap.
    var bias: String? { get }
    /// A .npy of shape [heads] or [batch, heads], or a comma list of slopes.
    var alibi: String? { get }
    var softcap: Double? { get }
    /// .npy of shape [heads] or [batch, heads], natural log.
    var sinks: String? { get }
}

extension ScoreModelSource {
    /// Reads and checks every value and file.
    /// - Throws: `AttnError.usage` naming the parameter at fault (unreadable or malformed file,
    ///   wrong dtype, NaN/Inf, bad window or softcap). Shapes are checked against the problem by
    ///   `ScoreModel.validate`.
    public func loadScoreModel() throws -> ScoreModel {
        var w = try window.map(AttentionWindow.init(parsing:))
        if let c = causalWindow { w = w.map { $0.intersection(c) } ?? c }
        let explicit = try mask.map { try Npy.readMask($0, parameter: .mask) }
        return try ScoreModel(
            mask: AttentionMask(alignment: align, window: w, explicit: explicit), softcap: softcap,
            bias: try bias.map { try Npy.readScoreGrid($0, parameter: .bias) },
            alibiSlopes: try alibi.map(ScoreModelFiles.slopes),
            sinks: try sinks.map { try Npy.readScoreGrid($0, parameter: .sinks, perHead: true) })
    }
}

/// The score model's flags and files as plain values (`ScoreModelSource`).
public struct ScoreModelFiles: ScoreModelSource, Sendable, Equatable {
    public var causalWindow: AttentionWindow?
    public var align = MaskAlignment.bottomRight
    public var window: String?, mask: String?, bias: String?, alibi: String?
    public var softcap: Double?
    public var sinks: String?

    public init() {}

    /// `SLOPES`: a path to a .npy, or a comma list of decimals.
    static func slopes(_ text: String) throws -> ScoreGrid<Double> {
        if text.hasSuffix(".npy") || FileManager.default.fileExists(atPath: text) {
            return try Npy.readScoreGrid(text, parameter: .alibi, perHead: true)
        }
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        let values = items.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == items.count, !values.isEmpty else {
            throw AttnError.usage(.alibi, "'\(text)' is neither a .npy file nor a comma list of numbers")
        }
        return try .perHead(values, parameter: .alibi)
    }
}

extension AttentionWindow {
    /// Parses "L,R": each an integer ≥ 0 or `inf` (FlashAttention's −1).
    /// - Throws: `AttnError.usage(.window, …)` for anything else.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        func bound(_ s: String) throws -> Int? {
            if s == "inf" { return nil }
            guard let n = Int(s) else { throw AttnError.usage(.window, "'\(text)': need L,R with integers ≥ 0 or inf") }
            return n
        }
        guard parts.count == 2 else { throw AttnError.usage(.window, "'\(text)': need L,R with integers ≥ 0 or inf") }
        try self.init(left: try bound(parts[0]), right: try bound(parts[1]))
    }

    /// The band both windows allow (the smaller bound on each side).
    public func intersection(_ other: AttentionWindow) -> AttentionWindow {
        func meet(_ a: Int?, _ b: Int?) -> Int? { a.map { x in b.map { min(x, $0) } ?? x } ?? b }
        return AttentionWindow(unchecked: meet(left, other.left), meet(right, other.right))
    }
}
