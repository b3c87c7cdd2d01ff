import AttnCore
import AttnKernels

/// Which tokens of a multimodal sequence are vision tokens (the rest are text).
public struct TokenTypes: Sendable, Equatable {
    public let isVision: [Bool]
    public init(isVision: [Bool]) { self.isVision = isVision }

    /// `count` tokens, vision on the given half-open ranges.
    /// - Throws: `AttnError.usage` for a range outside `0..<count`.
    public init(count: Int, vision: [Range<Int>]) throws {
        var v = [Bool](repeating: false, count: count)
        for r in vision {
            guard r.lowerBound >= 0, r.upperBound <= count, !r.isEmpty else {
                throw AttnError.usage(.vision, "range \(r.lowerBound):\(r.upperBound) is empty or outside 0:\(count)")
            }
            for j in r { v[j] = true }
        }
        isVision = v
    }

    public var count: Int { isVision.count }
    public var visionCount: Int { isVision.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

/// Attention FLOPs of an operator beside dense attention, counting 2·d per
/// scored pair (QKᵀ) and 2·d_v per weighted pair (PV), summed over heads.
public struct AttentionFlops: Sendable, Equatable {
    public var dense: Double
    public var pruned: Double
    public var savedFraction: Double { dense == 0 ? 0 : 1 - pruned / dense }
}

/// VisiPruner-style (EIT-NLP/VisiPruner) token-pruning operators over one
/// layer's attention inputs. Each operator has a masked reference
/// (`VisiPrunerReference`) built from `ReferenceAttention.weights` with an
/// explicit mask, and the tests check that they agree.
public enum VisiPruner {
    /// Number of (query, key) pairs a query row sees (the mask's window; `requireTokenMask` has
    /// excluded the rest).
    static func visible(row i: Int, nq: Int, nk: Int, scoreModel: ScoreModel) -> Int {
        scoreModel.mask.visibleKeys(row: i, queries: nq, keys: nk).count
    }

    /// The operators drop tokens from the sequence, so only masks that mean the same among the
    /// kept tokens apply: none or causal (the order of tokens is kept). Other windows, explicit
    /// masks and score terms are refused.
    static func requireTokenMask(_ scoreModel: ScoreModel) throws {
        try scoreModel.requireSupported([], by: "token pruning")
        guard scoreModel.mask.window == nil || scoreModel.mask.isCausal else {
            throw AttnError.usage(
                .window, "token pruning supports the causal mask only (got the window \(scoreModel.mask.window!))")
        }
    }

    static func checkTypes<T: AttnScalar>(_ q: Tensor<T>, _ k: Tensor<T>, _ types: TokenTypes) throws {
        guard q.rows == k.rows, types.count == k.rows else {
            throw AttnError.usage(
                "token types: need n_q = n_k = \(types.count) tokens, got n_q = \(q.rows), n_k = \(k.rows)")
        }
    }
}
