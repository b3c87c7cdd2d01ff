/// Values over the score axes [batch, heads, n_q, n_k], stored with broadcasting as PyTorch
/// broadcasts `attn_mask`: the shape is right-aligned against the four axes, and each
/// axis is either 1 (repeated) or the full length. An explicit mask (`Bool`) and an additive
/// bias (`Double`) are grids; so are per-head values ([heads] or [batch, heads], `perHead`).
///
/// The shape is checked against a problem by `broadcasts(batch:heads:queries:keys:)`
/// (`ScoreModel.validate` does it once, before any kernel runs); reading an element of an
/// unchecked grid outside its shape is a precondition failure.
public struct ScoreGrid<Element: Sendable & Equatable>: Sendable, Equatable {
    /// The shape as given (rank 0 to 4; per-head values keep their [heads] or [batch, heads]).
    public let shape: [Int]
    /// Row-major values, `shape.reduce(1, *)` of them.
    public let values: [Element]
    /// The shape padded to the four axes (per-head values: [1, heads, 1, 1] or [batch, heads, 1, 1]).
    public let axes: [Int]
    /// Element strides along the four axes, 0 where an axis has length 1 (broadcast).
    @usableFromInline let strides: (Int, Int, Int, Int)

    /// A grid broadcast from the right against [batch, heads, n_q, n_k], as PyTorch's `attn_mask`.
    /// - Throws: `AttnError.usage(parameter, …)` for a rank above 4, a negative dimension, or a value
    ///   count that does not match the shape.
    public init(shape: [Int], values: [Element], parameter: Parameter) throws {
        guard shape.count <= 4 else {
            throw AttnError.usage(parameter, "need at most 4 dimensions [batch, heads, n_q, n_k], got shape \(shape)")
        }
        try self.init(shape: shape, axes: [Int](repeating: 1, count: 4 - shape.count) + shape, values, parameter)
    }

    /// Per-head values of shape [heads] or [batch, heads] (FlashAttention's `alibi_slopes`;
    /// sinks), constant over rows and keys.
    /// - Throws: `AttnError.usage(parameter, …)` for another rank or a count that does not match.
    public static func perHead(shape: [Int], values: [Element], parameter: Parameter) throws -> ScoreGrid {
        guard (1...2).contains(shape.count) else {
            throw AttnError.usage(parameter, "need shape [heads] or [batch, heads], got \(shape)")
        }
        return try ScoreGrid(
            shape: shape, axes: [Int](repeating: 1, count: 2 - shape.count) + shape + [1, 1], values, parameter)
    }

    /// Per-head values of shape [heads].
    public static func perHead(_ values: [Element], parameter: Parameter) throws -> ScoreGrid {
        try perHead(shape: [values.count], values: values, parameter: parameter)
    }

    private init(shape: [Int], axes: [Int], _ values: [Element], _ parameter: Parameter) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw AttnError.usage(parameter, "negative dimension in \(shape)") }
        var count = 1
        for n in shape {
            let (p, o) = count.multipliedReportingOverflow(by: n)
            guard !o else { throw AttnError.usage(parameter, "shape \(shape) is too large") }
            count = p
        }
        guard count == values.count else {
            throw AttnError.usage(parameter, "shape \(shape) needs \(count) values, got \(values.count)")
        }
        (self.shape, self.axes, self.values) = (shape, axes, values)
        let sk = axes[3] == 1 ? 0 : 1, sq = axes[2] == 1 ? 0 : axes[3]
        let sh = axes[1] == 1 ? 0 : axes[2] * axes[3], sb = axes[0] == 1 ? 0 : axes[1] * axes[2] * axes[3]
        strides = (sb, sh, sq, sk)
    }

    /// Element strides along [batch, heads, n_q, n_k] (0 on a broadcast axis), for kernels that walk `values`.
    public var elementStrides: (batch: Int, head: Int, row: Int, col: Int) { strides }

    /// Whether the grid broadcasts to [batch, heads, n_q, n_k]: each of its axes is 1 or equal.
    public func broadcasts(batch: Int, heads: Int, queries nq: Int, keys nk: Int) -> Bool {
        zip(axes, [batch, heads, nq, nk]).allSatisfy { $0 == 1 || $0 == $1 }
    }

    /// The value at (batch b, head h, row i, key j), broadcast.
    @inlinable public subscript(batch b: Int, head h: Int, row i: Int, col j: Int) -> Element {
        values[b * strides.0 + h * strides.1 + i * strides.2 + j * strides.3]
    }

    /// Equal shapes (as given and as padded) and values.
    public static func == (a: ScoreGrid, b: ScoreGrid) -> Bool {
        a.shape == b.shape && a.axes == b.axes && a.values == b.values
    }

    /// Whether the value depends on the row or the key (false for per-head values).
    public var variesWithinHead: Bool { axes[2] != 1 || axes[3] != 1 }
}

extension ScoreGrid where Element == Double {
    /// The first value that is NaN or ±∞, if any.
    public var firstNonFinite: Double? { values.first { !$0.isFinite } }
}
