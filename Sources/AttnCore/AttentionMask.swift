/// Where the causal diagonal of an n_q × n_k score matrix lies when n_q ≠ n_k.
///
/// Query row i is aligned with key `i′ = i + shift` (`diagonal(row:queries:keys:)`):
/// - `bottomRight` (the default): i′ = i + n_k − n_q, so the last query meets the last key.
///   FlashAttention ≥ 2.1, cuDNN's `BOTTOM_RIGHT`, `torch.nn.attention.bias.causal_lower_right`
///   and KV-cache decoding (a decode step, n_q = 1, sees every key).
/// - `topLeft`: i′ = i, so the first query meets the first key. PyTorch's
///   `scaled_dot_product_attention(is_causal=True)` and `causal_upper_left`.
///
/// The two agree when n_q = n_k. Windows and ALiBi distances are measured from i′.
public enum MaskAlignment: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case bottomRight = "bottom-right"
    case topLeft = "top-left"

    /// i′ − i: n_k − n_q bottom-right, 0 top-left.
    @inlinable public func shift(queries nq: Int, keys nk: Int) -> Int { self == .bottomRight ? nk - nq : 0 }

    /// The aligned diagonal i′ of query row `i`.
    @inlinable public func diagonal(row i: Int, queries nq: Int, keys nk: Int) -> Int {
        i + shift(queries: nq, keys: nk)
    }

    public var description: String { rawValue }
}

/// A band around the aligned diagonal: key j is visible to row i iff
/// `i′ − left ≤ j ≤ i′ + right` (FlashAttention's `window_size=(left, right)`, where
/// −1 there is `nil` here: unbounded on that side).
///
/// Causal attention is the window (∞, 0) (`AttentionWindow.causal`); a sliding window of
/// w keys with the current one is (w − 1, 0).
public struct AttentionWindow: Sendable, Hashable, CustomStringConvertible {
    /// Keys visible before the diagonal (nil: all of them).
    public let left: Int?
    /// Keys visible after the diagonal (nil: all of them; 0: causal).
    public let right: Int?

    /// - Throws: `AttnError.usage(.window, …)` if a bound is negative.
    public init(left: Int?, right: Int?) throws {
        for b in [left, right] {
            if let b, b < 0 { throw AttnError.usage(.window, "bounds must be ≥ 0 or unbounded (got \(b))") }
        }
        self.init(unchecked: left, right)
    }

    @usableFromInline init(unchecked left: Int?, _ right: Int?) { (self.left, self.right) = (left, right) }

    /// (∞, 0): row i sees the keys up to its diagonal.
    public static let causal = AttentionWindow(unchecked: nil, 0)

    /// The keys row `i` sees, given its aligned diagonal i′ (`diagonal`): a possibly empty
    /// range within 0..<n_k. Never overflows, whatever the bounds.
    @inlinable public func keys(diagonal di: Int, keys nk: Int) -> Range<Int> {
        // j ≥ i′ − L: only when L < i′ is the bound above 0 (then i′ − L > 0 cannot overflow).
        let lo = left.map { $0 >= di ? 0 : Swift.min(nk, di - $0) } ?? 0
        // j ≤ i′ + R: the bound reaches n_k − 1 when R ≥ n_k − 1 − i′ (no overflow either way).
        let hi = right.map { $0 >= nk - 1 - di ? nk : Swift.max(0, di + $0 + 1) } ?? nk
        return lo..<Swift.max(lo, hi)
    }

    /// "L,R" with `inf` for an unbounded side (the CLI's `--window` spelling).
    public var description: String { "\(left.map(String.init) ?? "inf"),\(right.map(String.init) ?? "inf")" }
}

/// Which keys each query row sees: the intersection of a window around the aligned
/// diagonal (`window`, none: every key) and an explicit boolean mask (`explicit`, none:
/// every key), the second broadcast over [batch, heads, n_q, n_k] as PyTorch's `attn_mask`.
///
/// A row may see no key at all (top-left alignment, windows, explicit masks): such a
/// **fully masked row is defined** as output 0 with log-sum-exp −∞ (sinks aside), as
/// PyTorch's `_safe_softmax` (2.5+) makes it. Every kernel and the certified engines
/// follow this definition; none rejects such rows.
public struct AttentionMask: Sendable, Equatable {
    /// How the window's diagonal is aligned (bottom-right by default).
    public var alignment: MaskAlignment
    /// The band around the diagonal; nil: no band (every key, unless `explicit` hides it).
    public var window: AttentionWindow?
    /// The explicit mask: `true` = visible. Its shape must broadcast to [batch, heads, n_q, n_k]
    /// (checked by `ScoreModel.validate`).
    public var explicit: ScoreGrid<Bool>?

    public init(
        alignment: MaskAlignment = .bottomRight, window: AttentionWindow? = nil, explicit: ScoreGrid<Bool>? = nil
    ) {
        (self.alignment, self.window, self.explicit) = (alignment, window, explicit)
    }

    /// No mask: every row sees every key.
    public static let none = AttentionMask()

    /// Causal: row i sees the keys j ≤ i′.
    public static func causal(_ alignment: MaskAlignment = .bottomRight) -> AttentionMask {
        AttentionMask(alignment: alignment, window: .causal)
    }

    /// True when no key is ever hidden (no window, no explicit mask).
    public var isNone: Bool { window == nil && explicit == nil }

    /// True for exactly the causal window (any alignment), without an explicit mask.
    public var isCausal: Bool { window == .causal && explicit == nil }

    /// The keys the window lets row `i` see (all of 0..<n_k without a window); possibly empty.
    /// The explicit mask may hide some of them (`isVisible`).
    @inlinable public func visibleKeys(row i: Int, queries nq: Int, keys nk: Int) -> Range<Int> {
        guard let window else { return 0..<nk }
        return window.keys(diagonal: alignment.diagonal(row: i, queries: nq, keys: nk), keys: nk)
    }

    /// Whether key `col` is visible to query `row` of head `head` in batch entry `batch`.
    @inlinable public func isVisible(batch b: Int, head h: Int, row i: Int, col j: Int, queries nq: Int, keys nk: Int)
        -> Bool
    {
        visibleKeys(row: i, queries: nq, keys: nk).contains(j)
            && (explicit.map { $0[batch: b, head: h, row: i, col: j] } ?? true)
    }

    /// Whether the window alone leaves some row without a visible key (every row when n_k = 0;
    /// an explicit mask may hide more). O(1): the rows' ranges move monotonically with i.
    public func windowEmptiesRows(queries nq: Int, keys nk: Int) -> Bool {
        guard nq > 0 else { return false }
        if nk == 0 { return true }
        guard window != nil else { return false }
        // lo(i) and hi(i) are non-decreasing in i and the width can only be 0 where a bound clips:
        // the first and last rows decide, unless both bounds are finite and L + R + 1 ≤ 0 (impossible: L, R ≥ 0).
        return visibleKeys(row: 0, queries: nq, keys: nk).isEmpty
            || visibleKeys(row: nq - 1, queries: nq, keys: nk).isEmpty
    }
}
