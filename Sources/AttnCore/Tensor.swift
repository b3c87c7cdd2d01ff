/// Floating-point element types that attnbound computes in.
public protocol AttnScalar: BinaryFloatingPoint, Sendable, Codable
where Self.RawSignificand: FixedWidthInteger {
    /// Unit roundoff u = 2⁻ᵖ (p = significand bits incl. the hidden bit).
    static var unitRoundoff: Double { get }
    /// Name as NumPy spells it ("float32", "float64").
    static var dtypeName: String { get }
}

extension Float: AttnScalar {
    public static var unitRoundoff: Double { 0x1p-24 }
    public static var dtypeName: String { "float32" }
}

extension Double: AttnScalar {
    public static var unitRoundoff: Double { 0x1p-53 }
    public static var dtypeName: String { "float64" }
}

/// A batch of row-major matrices: `heads × rows × cols`.
///
/// One head is the 2-D case ([n, d] in a .npy file); `logicalRank` remembers
/// which so that a round trip writes the same shape back. A 4-D PyTorch array
/// `[batch, heads, n, d]` is stored with its first two axes flattened:
/// `heads` counts every matrix (`batch · headsPerBatch`) and flat head
/// `f = b·headsPerBatch + h`, so every per-head loop handles a batch unchanged.
public struct Tensor<Scalar: AttnScalar>: Sendable, Equatable {
    /// The number of matrices (for rank 4: batch × heads per batch).
    public let heads: Int
    public let rows: Int
    public let cols: Int
    /// 1 for a vector `[d]` (one row), 2 for `[n, d]`, 3 for `[heads, n, d]`,
    /// 4 for `[batch, heads, n, d]`.
    public let logicalRank: Int
    /// The leading axis of a rank-4 tensor (1 otherwise).
    public let batch: Int
    /// Heads per batch entry: `heads / batch` (kept separately so that a zero batch keeps its shape).
    public let headsPerBatch: Int
    /// Row-major storage, always exactly `heads·rows·cols` elements.
    ///
    /// Read-only: kernels hand this buffer to BLAS with the shape's strides, so a
    /// caller must not be able to shrink it. Write elements with `self[h, i, j]`,
    /// `self[flat:]` or `withUnsafeMutableBufferPointer`, none of which can
    /// change the count.
    @inlinable public var storage: [Scalar] { _storage }
    @usableFromInline var _storage: [Scalar]

    /// - Precondition: `storage.count == heads·rows·cols`, all dimensions ≥ 0,
    ///   and for rank 4, `heads == batch · headsPerBatch`.
    public init(
        heads: Int = 1, rows: Int, cols: Int, storage: [Scalar], logicalRank: Int? = nil,
        batch: Int = 1, headsPerBatch: Int? = nil
    ) {
        precondition(heads >= 0 && rows >= 0 && cols >= 0 && batch >= 0, "negative dimension")
        precondition(storage.count == heads * rows * cols, "storage does not match shape")
        let hpb = headsPerBatch ?? (batch == 0 ? 0 : heads / batch)
        precondition(batch * hpb == heads, "batch does not divide heads")
        self.heads = heads
        self.rows = rows
        self.cols = cols
        self._storage = storage
        self.batch = batch
        self.headsPerBatch = hpb
        self.logicalRank = logicalRank ?? (batch != 1 ? 4 : heads == 1 ? 2 : 3)
    }

    /// A zero-filled tensor.
    public init(
        heads: Int = 1, rows: Int, cols: Int, logicalRank: Int? = nil,
        batch: Int = 1, headsPerBatch: Int? = nil
    ) {
        self.init(
            heads: heads, rows: rows, cols: cols,
            storage: [Scalar](repeating: 0, count: heads * rows * cols), logicalRank: logicalRank,
            batch: batch, headsPerBatch: headsPerBatch)
    }

    /// Shape as NumPy would print it (rank 1 is a single row `[cols]`).
    public var shape: [Int] {
        switch logicalRank {
        case 1: [cols]
        case 2: [rows, cols]
        case 3: [heads, rows, cols]
        default: [batch, headsPerBatch, rows, cols]
        }
    }

    /// (batch, head) of flat head `f`, as PyTorch counts them.
    @inlinable public func location(ofHead f: Int) -> (batch: Int, head: Int) {
        headsPerBatch == 0 ? (0, f) : (f / headsPerBatch, f % headsPerBatch)
    }

    /// The same data with the leading axes (rank, batch) of `like`, e.g. a
    /// kernel's output given the shape of its queries. Rows and columns are kept.
    /// - Precondition: `like.heads == heads`.
    public func withLeadingAxes<U>(of like: Tensor<U>) -> Tensor {
        precondition(like.heads == heads, "head counts differ")
        return Tensor(
            heads: heads, rows: rows, cols: cols, storage: storage,
            logicalRank: max(like.logicalRank, 2), batch: like.batch, headsPerBatch: like.headsPerBatch)
    }

    public var count: Int { _storage.count }

    @inlinable public subscript(h: Int, i: Int, j: Int) -> Scalar {
        get { _storage[(h * rows + i) * cols + j] }
        set { _storage[(h * rows + i) * cols + j] = newValue }
    }

    /// Element `index` of `storage` (row-major order).
    @inlinable public subscript(flat index: Int) -> Scalar {
        get { _storage[index] }
        set { _storage[index] = newValue }
    }

    /// Runs `body` on the mutable row-major buffer (`count` elements; the
    /// buffer itself cannot be replaced, so the shape stays true).
    @inlinable public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        try _storage.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// Offset of row `i` of head `h` in `storage`.
    @inlinable public func offset(head h: Int, row i: Int) -> Int { (h * rows + i) * cols }

    /// The matrix of head `h` as its own one-head tensor.
    public func head(_ h: Int) -> Tensor {
        let start = h * rows * cols
        return Tensor(
            heads: 1, rows: rows, cols: cols,
            storage: Array(storage[start..<start + rows * cols]), logicalRank: 2)
    }

    /// Converts every element (exactly when widening Float → Double).
    public func converted<T: AttnScalar>(to: T.Type = T.self) -> Tensor<T> {
        Tensor<T>(
            heads: heads, rows: rows, cols: cols, storage: storage.map { T($0) }, logicalRank: logicalRank,
            batch: batch, headsPerBatch: headsPerBatch)
    }

    /// True when no element is NaN or ±∞.
    ///
    /// Float and Double: an integer scan of the bit patterns (`FiniteScan`: the largest |bits| below
    /// the exponent-all-ones pattern), which the compiler vectorises; it runs at memory bandwidth.
    @inlinable public var isFinite: Bool {
        storage.withUnsafeBufferPointer { b in
            if Scalar.self == Float.self {
                return UnsafeRawBufferPointer(b).withMemoryRebound(to: UInt32.self) { FiniteScan.finite32($0) }
            }
            if Scalar.self == Double.self {
                return UnsafeRawBufferPointer(b).withMemoryRebound(to: UInt64.self) { FiniteScan.finite64($0) }
            }
            return b.allSatisfy { $0.isFinite }
        }
    }

    /// max |x| over all elements (0 for an empty tensor).
    @inlinable public var maxAbs: Scalar {
        storage.withUnsafeBufferPointer { b in b.reduce(0) { Swift.max($0, abs($1)) } }
    }
}

/// Checks the shapes of an attention problem (AttnKit.docc/Conventions.md, "Tensors").
///
/// Q and K share d and the head count; V has as many rows as K.
/// - Throws: `AttnError.usage` with the parameter at fault (`.q`, `.k`, `.v`)
///   for a mismatch, an empty dimension, or NaN/Inf.
/// With `checkFinite: false` the O(size) NaN/Inf scan is skipped: only for
/// inputs validated before (e.g. a KV cache checked as it was appended).
@inlinable
public func validateAttentionShapes<T: AttnScalar>(
    q: Tensor<T>, k: Tensor<T>, v: Tensor<T>,
    checkFinite: Bool = true
) throws {
    for (p, name, t) in [(Parameter.q, "Q", q), (.k, "K", k), (.v, "V", v)]
    where t.storage.count != t.heads * t.rows * t.cols {
        throw AttnError.usage(p, "\(name) holds \(t.storage.count) elements, not \(t.heads)·\(t.rows)·\(t.cols)")
    }
    guard q.heads == k.heads else {
        throw AttnError.usage(.k, "shape mismatch: Q has \(q.heads) heads but K has \(k.heads)")
    }
    guard k.heads == v.heads else {
        throw AttnError.usage(.v, "shape mismatch: K has \(k.heads) heads but V has \(v.heads)")
    }
    try validateWidthsRowsAndValues(q: q, k: k, v: v, checkFinite: checkFinite)
}

/// The checks every attention problem needs, whatever its head layout (equal
/// heads here, GQA and batches in `AttentionShape`): Q and K share d ≥ 1, V has
/// as many rows as K and K has at least one, and, with `checkFinite`, no NaN/Inf.
/// One implementation, so that both validators reject the same inputs alike.
/// Inlinable, as its callers: unspecialised, the NaN/Inf scan ran generically at ~11 ns
/// per element (8.8 ms of a 33 ms one-thread `FastAttention.compute` at n = 4096, d = 64).
@inlinable
func validateWidthsRowsAndValues<T: AttnScalar>(
    q: Tensor<T>, k: Tensor<T>, v: Tensor<T>,
    checkFinite: Bool
) throws {
    guard q.cols == k.cols else {
        throw AttnError.usage(.k, "shape mismatch: Q has d = \(q.cols) but K has d = \(k.cols)")
    }
    guard v.rows == k.rows else {
        throw AttnError.usage(.v, "shape mismatch: V has \(v.rows) rows but K has \(k.rows)")
    }
    guard q.cols >= 1 else { throw AttnError.usage(.q, "shape: head dimension d must be at least 1") }
    guard k.rows >= 1 else { throw AttnError.usage(.k, "shape: K must have at least one row") }
    for (p, name, t) in [(Parameter.q, "Q", q), (.k, "K", k), (.v, "V", v)] where checkFinite && !t.isFinite {
        throw AttnError.usage(p, "\(name) contains NaN or Inf")
    }
}
