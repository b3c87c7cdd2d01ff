import AttnCore
import AttnKernels

/// Per-worker scratch for one q-tile at a time: the shared
/// `OnlineSoftmaxAccumulator` plus one score tile.
///
/// Every block-sparse kernel in this module (plain, LiteAttention, db-SP ranks)
/// goes through `score` and `absorb`, so two callers that feed the same tiles
/// in the same order produce bitwise identical outputs.
final class TileWorkspace<T: KernelScalar> {
    private(set) var accumulator: OnlineSoftmaxAccumulator<T>
    let keyTile: Int
    let queryTile: Int
    let valueCols: Int
    /// `queryTile × keyTile` scores, leading dimension `keyTile`.
    let scores: UnsafeMutablePointer<T>

    init(tiles: TileSizes, valueCols: Int) {
        accumulator = OnlineSoftmaxAccumulator<T>(rows: tiles.queryTile, valueCols: valueCols)
        keyTile = tiles.keyTile
        queryTile = tiles.queryTile
        self.valueCols = valueCols
        scores = .allocate(capacity: tiles.queryTile * tiles.keyTile)
        scores.initialize(repeating: 0, count: tiles.queryTile * tiles.keyTile)
    }

    deinit { scores.deallocate() }

    /// Starts a new q-tile. A fresh accumulator rather than `reset()`: seen from
    /// this module `reset()` is an unspecialised generic (absorb and finish are
    /// pre-specialised for Float and Double), and its per-element loop cost more
    /// than the allocation on sparse q-tiles.
    func begin() { accumulator = OnlineSoftmaxAccumulator<T>(rows: queryTile, valueCols: valueCols) }

    /// scores ← s·Q_tile·K_tileᵀ (`rows × cols`); nothing else is touched.
    @inline(__always)
    func score(q: UnsafePointer<T>, rows: Int, k: UnsafePointer<T>, cols: Int, d: Int, s: T) {
        T.gemm(
            transA: false, transB: true, m: rows, n: cols, k: d, alpha: s, a: q, lda: d, b: k, ldb: d,
            beta: 0, c: scores, ldc: keyTile)
    }

    /// Max of row `r` of the current score tile.
    @inline(__always)
    func tileRowMax(_ r: Int, cols: Int) -> T {
        T.maximum(scores + r * keyTile, count: cols)
    }

    /// Absorbs the current score tile with its values (`cols × dv`).
    @inline(__always)
    func absorb(rows: Int, cols: Int, v: UnsafePointer<T>, dv: Int) {
        accumulator.absorb(scores: scores, ldScores: keyTile, rowLimit: rows, cols: cols, values: v, ldValues: dv)
    }

    /// Writes the normalised rows O/l.
    func finish(into out: UnsafeMutablePointer<T>, ldOut: Int, rows: Int) {
        accumulator.finish(into: out, ldOut: ldOut, rowLimit: rows)
    }
}
