/// Per-row error bounds of an attention output: `self[head: h, row: i]` bounds
/// |Ô_ic − O_ic| for every column c of row i of head h.
///
/// Also a collection of all `heads·rows` bounds in (head, row) order, so that
/// `max()`, `zip` and loops read it as they would an array.
public struct RowBounds: RandomAccessCollection, Sendable, Equatable {
    public let heads: Int
    public let rows: Int
    /// `heads·rows` bounds, head-major.
    public let values: [Double]

    /// - Precondition: `values.count == heads·rows`.
    public init(heads: Int, rows: Int, values: [Double]) {
        precondition(heads >= 0 && rows >= 0 && values.count == heads * rows, "row bounds do not match the shape")
        self.heads = heads
        self.rows = rows
        self.values = values
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { values.count }
    public subscript(position: Int) -> Double { values[position] }

    /// The bound of row `i` of head `h`.
    public subscript(head h: Int, row i: Int) -> Double { values[h * rows + i] }

    /// The largest bound (0 when there are no rows).
    public var maxBound: Double { values.max() ?? 0 }
}

/// The one result shape of the attention kernels: the output and, for each of
/// its rows, a bound on the entrywise error against exact attention of the
/// inputs' exact values (an a-priori or a-posteriori bound, as the producing
/// function documents).
public struct AttentionResult<T: AttnScalar>: Sendable {
    /// heads × n_q × d_v.
    public let output: Tensor<T>
    /// One bound per (head, row) of `output`.
    public let rowBounds: RowBounds

    public init(output: Tensor<T>, rowBounds: RowBounds) {
        precondition(rowBounds.heads == output.heads && rowBounds.rows == output.rows, "bounds do not match the output")
        self.output = output
        self.rowBounds = rowBounds
    }

    /// The largest row bound: |Ô − O| ≤ this entrywise.
    public var maxErrorBound: Double { rowBounds.maxBound }
}
