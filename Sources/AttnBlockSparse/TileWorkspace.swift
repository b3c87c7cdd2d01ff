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

    /// Starts a new q-tile. A fresh accumulator rather than `reset()`: seen
    /// from this module the accumulator's methods are unspecialised generics,
    /// and its per-element reset loop cost more than the allocation.
    func begin() { accumulator = OnlineSoftmaxAccumulator<T>(rows: queryTile, valueCols: valueCols) }

    /// scores ← s·Q_tile·K_tileᵀ (`rows × cols`); nothing else is touched.
    @inline(__always)
    func score(q: UnsafePointer<T>, rows: Int, k: UnsafePointer<T>, cols: Int, d: Int, s: T) {
        T.gemm(transA: false, transB: true, m: rows, n: cols, k: d, alpha: s, a: q, lda: d, b: k, ldb: d,
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

    /// Writes the normalised rows O/l, with exactly the arithmetic of
    /// `OnlineSoftmaxAccumulator.finish` (one reciprocal per row, then products),
    /// so results are bitwise those of `finish` (test: `fullMaskAscendingIsBitwiseFastAttention`).
    /// Done here on the accumulator's public state because, seen from this
    /// module, its methods are unspecialised generics whose per-element loop
    /// dominated sparse q-tiles. Replace by `accumulator.finish` once AttnKernels
    /// makes it `@inlinable`.
    func finish(into out: UnsafeMutablePointer<T>, ldOut: Int, rows: Int) {
        let sums = accumulator.rowSum
        accumulator.output.withUnsafeBufferPointer { o in
            for i in 0..<rows {
                let inv = sums[i] > 0 ? 1 / sums[i] : T.nan
                for c in 0..<valueCols { out[i * ldOut + c] = o[i * valueCols + c] * inv }
            }
        }
    }
}
