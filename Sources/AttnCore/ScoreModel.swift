import Foundation

/// What attention computes: the one description every kernel, the certified engines, `verify`
/// and `vectors` take (AttnKit.docc/Conventions.md; the architecture's "the score model is data").
///
/// For batch entry b, head h, query row i and key j, with s the softmax scale and i′ the aligned
/// diagonal of row i (`MaskAlignment`):
///
///     score_ij = softcap_c(s·q_i·k_j) + bias_bhij − slope_bh·|i′ − j|,   softcap_c(x) = c·tanh(x/c)
///
/// over the keys the mask leaves visible (`AttentionMask`), and
///
///     O_i = Σ_j exp(score_ij)·v_j / (Σ_j exp(score_ij) + exp(σ_bh)),   LSE_i = ln(Σ_j exp(score_ij) + exp(σ_bh))
///
/// where the sink σ_bh (natural-log units, gpt-oss and FlashAttention 4) adds to the denominator
/// only and has no value row. Every term is optional: without them the model is plain softmax
/// attention. A row that sees no key outputs 0, and its LSE is σ_bh with a sink, −∞ without.
///
/// The model is a closed set of value types, not closures: each term has its enclosure in the
/// certified engines and its term in `ForwardErrorBound` (Proofs/).
public struct ScoreModel: Sendable, Equatable {
    /// The visible keys.
    public var mask: AttentionMask
    /// The softcap c > 0 (Gemma 2: c·tanh(x/c) of the scaled score), or nil.
    public let softcap: Double?
    /// Additive bias over [batch, heads, n_q, n_k] (broadcast), finite, applied after the softcap.
    public let bias: ScoreGrid<Double>?
    /// ALiBi slopes per head ([heads] or [batch, heads]), finite: the score loses slope·|i′ − j|.
    public let alibiSlopes: ScoreGrid<Double>?
    /// Sink logits σ per head ([heads] or [batch, heads]), finite, natural log.
    public let sinks: ScoreGrid<Double>?

    /// - Throws: `AttnError.usage` naming the parameter at fault: a softcap that is not a
    ///   positive finite number (`.softcap`), NaN/±∞ in the bias, the slopes or the sinks
    ///   (`.bias`, `.alibi`, `.sinks`), per-head values of another shape (`.alibi`, `.sinks`).
    ///   Shapes are checked against a problem by `validate(batch:heads:queries:keys:)`.
    public init(
        mask: AttentionMask = .none, softcap: Double? = nil, bias: ScoreGrid<Double>? = nil,
        alibiSlopes: ScoreGrid<Double>? = nil, sinks: ScoreGrid<Double>? = nil
    ) throws {
        if let c = softcap, !(c.isFinite && c > 0) {
            throw AttnError.usage(.softcap, "must be a positive finite number (got \(c))")
        }
        for (p, grid) in [(Parameter.bias, bias), (.alibi, alibiSlopes), (.sinks, sinks)] {
            if let x = grid?.firstNonFinite { throw AttnError.usage(p, "contains \(x): every value must be finite") }
        }
        for (p, grid) in [(Parameter.alibi, alibiSlopes), (.sinks, sinks)] {
            if let grid, grid.variesWithinHead {
                throw AttnError.usage(p, "need shape [heads] or [batch, heads], got \(grid.shape)")
            }
        }
        self.init(unchecked: mask, softcap, bias, alibiSlopes, sinks)
    }

    init(
        unchecked mask: AttentionMask, _ softcap: Double?, _ bias: ScoreGrid<Double>?,
        _ alibi: ScoreGrid<Double>?, _ sinks: ScoreGrid<Double>?
    ) {
        (self.mask, self.softcap, self.bias, self.alibiSlopes, self.sinks) = (mask, softcap, bias, alibi, sinks)
    }

    /// A model with only a mask (no score terms).
    public init(mask: AttentionMask) { self.init(unchecked: mask, nil, nil, nil, nil) }

    /// Plain softmax attention: no mask, no terms.
    public static let plain = ScoreModel(mask: .none)

    /// Causal attention (`AttentionMask.causal`), bottom-right aligned by default.
    public static func causal(_ alignment: MaskAlignment = .bottomRight) -> ScoreModel {
        ScoreModel(mask: .causal(alignment))
    }

    /// Checks the model against a problem of `batch` entries of `heads` query heads, `queries`
    /// rows and `keys` keys: the explicit mask and the bias must broadcast to
    /// [batch, heads, n_q, n_k], and per-head values to [batch, heads].
    /// - Throws: `AttnError.usage` naming the parameter whose shape does not broadcast.
    public func validate(batch: Int, heads: Int, queries nq: Int, keys nk: Int) throws {
        let target = [batch, heads, nq, nk]
        for (p, grid) in [
            (Parameter.mask, mask.explicit.map { ($0.shape, $0.axes) }), (.bias, bias.map { ($0.shape, $0.axes) }),
            (.alibi, alibiSlopes.map { ($0.shape, $0.axes) }), (.sinks, sinks.map { ($0.shape, $0.axes) }),
        ] {
            guard let (shape, axes) = grid else { continue }
            if !zip(axes, target).allSatisfy({ $0 == 1 || $0 == $1 }) {
                throw AttnError.usage(
                    p, "shape \(shape) does not broadcast to [batch, heads, n_q, n_k] = \(target)")
            }
        }
    }

    /// As `validate(batch:heads:queries:keys:)` for a problem's shape.
    public func validate(for shape: AttentionShape) throws {
        try validate(batch: shape.batch, heads: shape.headsQ, queries: shape.nq, keys: shape.nk)
    }

    /// The terms of the model beyond a mask of (right-bounded) causal windows, each of which a
    /// kernel either computes or refuses (`requireSupported`).
    public enum Term: String, Sendable, CaseIterable {
        /// A window bounded on the left (a sliding window).
        case leftWindow = "a window bounded on the left"
        case explicitMask = "an explicit mask"
        case softcap = "a softcap"
        case bias = "a bias"
        case alibi = "ALiBi slopes"
        case sinks = "sinks"

        /// The parameter an error about this term blames.
        public var parameter: Parameter {
            switch self {
            case .leftWindow: .window
            case .explicitMask: .mask
            case .softcap: .softcap
            case .bias: .bias
            case .alibi: .alibi
            case .sinks: .sinks
            }
        }
    }

    /// The terms this model uses.
    public var terms: [Term] {
        var t: [Term] = []
        if mask.window?.left != nil { t.append(.leftWindow) }
        if mask.explicit != nil { t.append(.explicitMask) }
        if softcap != nil { t.append(.softcap) }
        if bias != nil { t.append(.bias) }
        if alibiSlopes != nil { t.append(.alibi) }
        if sinks != nil { t.append(.sinks) }
        return t
    }

    /// - Throws: `AttnError.usage(term.parameter, "… is not supported by <computation> yet")` for the
    ///   first term of the model outside `supported`: a computation that cannot honour a term
    ///   refuses it rather than ignoring it.
    public func requireSupported(_ supported: Set<Term>, by computation: String) throws {
        if let t = terms.first(where: { !supported.contains($0) }) {
            throw AttnError.usage(t.parameter, "\(t.rawValue) is not supported by \(computation) yet")
        }
    }

    /// - Throws: `AttnError.usage(.causal or .window, …)` when the window leaves some row without a
    ///   visible key, for a computation that does not yet produce the defined fully masked row.
    public func requireNoEmptyRows(queries nq: Int, keys nk: Int, by computation: String) throws {
        guard mask.windowEmptiesRows(queries: nq, keys: nk) else { return }
        throw AttnError.usage(
            mask.isCausal ? .causal : .window,
            "rows with no visible key (n_q = \(nq), n_k = \(nk), \(mask.alignment) aligned) are not supported by \(computation) yet"
        )
    }

    /// The score of key `j` for row `i` given the scaled dot product `x = s·q_i·k_j`, in Float64
    /// (the reference's evaluation order: softcap, then bias, then ALiBi). `b`, `h`: batch and head.
    @inlinable public func score(
        _ x: Double, batch b: Int, head h: Int, row i: Int, col j: Int, queries nq: Int,
        keys nk: Int
    ) -> Double {
        var y = x
        if let c = softcap { y = c * tanh(y / c) }
        if let bias { y += bias[batch: b, head: h, row: i, col: j] }
        if let alibiSlopes {
            let di = mask.alignment.diagonal(row: i, queries: nq, keys: nk)
            y -= alibiSlopes[batch: b, head: h, row: 0, col: 0] * Double((di - j).magnitude)
        }
        return y
    }

    /// The sink logit σ of (batch b, head h), or nil without sinks.
    @inlinable public func sink(batch b: Int, head h: Int) -> Double? {
        sinks.map { $0[batch: b, head: h, row: 0, col: 0] }
    }
}
