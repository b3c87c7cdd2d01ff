/// The tiled online-softmax machinery (FlashAttention-2), shared by the fast
/// exact kernel, the block-sparse kernels and the paged kernels.
///
/// One accumulator serves one q-tile of `rows` queries. It keeps, per row,
/// the running max `m`, the running sum `l` of exp(score − m), and the
/// unnormalised output `O` (rows × d_v). Absorbing a score tile rescales the
/// old state by exp(m_old − m_new), so the n_q × n_k matrix never exists.
///
/// Error bound: Proofs/online-softmax-error.md (`ForwardErrorBound.fast`).
public final class OnlineSoftmaxAccumulator<T: KernelScalar> {
    public let rows: Int
    public let valueCols: Int
    /// Running row max (−∞ until a finite score arrives).
    public private(set) var rowMax: [T]
    /// Running Σ exp(score − rowMax).
    public private(set) var rowSum: [T]
    /// Unnormalised output, rows × valueCols, row-major.
    public private(set) var output: [T]
    /// Number of score tiles absorbed (counts the rescales for the error bound).
    public private(set) var tilesAbsorbed = 0

    public init(rows: Int, valueCols: Int) {
        self.rows = rows
        self.valueCols = valueCols
        rowMax = [T](repeating: -.infinity, count: rows)
        rowSum = [T](repeating: 0, count: rows)
        output = [T](repeating: 0, count: rows * valueCols)
    }

    /// Resets to the empty state (reuse across q-tiles without reallocating).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func reset() {
        for i in 0..<rows { rowMax[i] = -.infinity; rowSum[i] = 0 }
        for i in 0..<output.count { output[i] = 0 }
        tilesAbsorbed = 0
    }

    /// Absorbs one tile of scaled scores (rows × cols, row-major, leading
    /// dimension `ldScores`; masked entries are −∞) and the matching values
    /// (cols × valueCols at `values`, leading dimension `ldValues`).
    ///
    /// The scores buffer is overwritten with the unnormalised weights.
    /// `rowLimit` rows take part (≤ rows), for ragged edge tiles.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func absorb(
        scores: UnsafeMutablePointer<T>, ldScores: Int, rowLimit: Int? = nil, cols: Int,
        values: UnsafePointer<T>, ldValues: Int
    ) {
        let nr = rowLimit ?? rows
        guard updateWeights(scores: scores, ldScores: ldScores, rows: nr, cols: cols) else { return }
        // O += P · V_tile (P is nr × cols).
        output.withUnsafeMutableBufferPointer { o in
            T.gemm(
                transA: false, transB: false, m: nr, n: valueCols, k: cols, alpha: 1,
                a: scores, lda: ldScores, b: values, ldb: ldValues,
                beta: 1, c: o.baseAddress!, ldc: valueCols)
        }
    }

    /// As `absorb(scores:…values:…)`, for a tile whose value rows lie in
    /// separate blocks (e.g. KV-cache pages): segment s covers `rows` columns of
    /// the tile, in order, with its values at `values` (leading dimension
    /// `ldValues`). Same arithmetic per weight; no gather of the values.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func absorb(
        scores: UnsafeMutablePointer<T>, ldScores: Int, rowLimit: Int? = nil,
        valueSegments: [(values: UnsafePointer<T>, rows: Int)], ldValues: Int
    ) {
        let nr = rowLimit ?? rows
        let cols = valueSegments.reduce(0) { $0 + $1.rows }
        guard updateWeights(scores: scores, ldScores: ldScores, rows: nr, cols: cols) else { return }
        output.withUnsafeMutableBufferPointer { o in
            var offset = 0
            for seg in valueSegments {
                T.gemm(
                    transA: false, transB: false, m: nr, n: valueCols, k: seg.rows, alpha: 1,
                    a: scores + offset, lda: ldScores, b: seg.values, ldb: ldValues,
                    beta: 1, c: o.baseAddress!, ldc: valueCols)
                offset += seg.rows
            }
        }
    }

    /// The softmax half of `absorb`: new running max, rescale of (l, O), and
    /// the tile's scores replaced by exp(score − max). False when there is nothing to absorb.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func updateWeights(scores: UnsafeMutablePointer<T>, ldScores: Int, rows nr: Int, cols: Int) -> Bool {
        precondition(nr <= rows && cols >= 0)
        if cols == 0 || nr == 0 { return false }
        tilesAbsorbed += 1
        output.withUnsafeMutableBufferPointer { o in
            for i in 0..<nr {
                let rowPtr = scores + i * ldScores
                let tileMax = T.maximum(rowPtr, count: cols)
                let newMax = max(rowMax[i], tileMax)
                if newMax == -.infinity {
                    // Whole row masked so far: weights are all 0.
                    for j in 0..<cols { rowPtr[j] = 0 }
                    continue
                }
                if newMax > rowMax[i] {
                    if rowMax[i] != -.infinity {
                        let alpha = expScalar(rowMax[i] - newMax)
                        rowSum[i] *= alpha
                        let orow = o.baseAddress! + i * valueCols
                        for c in 0..<valueCols { orow[c] *= alpha }
                    }
                    rowMax[i] = newMax
                }
                rowSum[i] += T.expShiftedSum(rowPtr, count: cols, shift: newMax)
            }
        }
        return true
    }

    /// Writes O / l for the first `rowLimit` rows into `out` (leading dimension `ldOut`).
    /// A row that saw no finite score is written as NaN: all its keys masked, or all its scores below −F
    /// (F the greatest finite value). `ForwardErrorBound.fast` gives such a row +∞ (`mayOverflow`, proof §4).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func finish(into out: UnsafeMutablePointer<T>, ldOut: Int, rowLimit: Int? = nil) {
        let nr = rowLimit ?? rows
        for i in 0..<nr {
            let inv = rowSum[i] > 0 ? 1 / rowSum[i] : T.nan
            for c in 0..<valueCols { out[i * ldOut + c] = output[i * valueCols + c] * inv }
        }
    }

    @inline(__always) func expScalar(_ x: T) -> T {
        var y = x
        _ = T.expShiftedSum(&y, count: 1, shift: 0)
        return y
    }
}
