import AttnCore
import CLapack
import Dispatch

/// Tile sizes of the fast kernel: `queryTile` rows of Q per task, `keyTile`
/// keys per score tile.
public struct TileSizes: Sendable, Equatable {
    public var queryTile: Int
    public var keyTile: Int
    public init(queryTile: Int, keyTile: Int) {
        precondition(queryTile >= 1 && keyTile >= 1)
        self.queryTile = queryTile
        self.keyTile = keyTile
    }
    /// Chosen on this machine (Zen 4, 1 MiB L2 per core): a 256 × 1024 Float score tile is 1 MiB;
    /// larger gemms amortise OpenBLAS packing (profiled single-threaded; see README, Benchmarks).
    public static let `default` = TileSizes(queryTile: 256, keyTile: 1024)

    /// The same key tile; the query tile halved (not below 64 rows) until there
    /// are at least 16 (head, q-tile) jobs, so that small problems keep every
    /// core busy to the end. It depends on the shape only, never on the thread
    /// count, so results stay independent of it. The key tile, and so the error
    /// bound, is unchanged.
    public func balanced(queries nq: Int, heads: Int) -> TileSizes {
        var qt = queryTile
        while qt > 64, heads * ((nq + qt - 1) / qt) < 16 { qt /= 2 }
        return TileSizes(queryTile: max(1, min(qt, queryTile)), keyTile: keyTile)
    }
}

/// Exact attention by tiled online softmax: O(n_q·n_k·d) time, O(tile) extra
/// memory, BLAS gemm for QKᵀ and PV, a vectorised exp, threads over
/// (head, q-tile) pairs.
///
/// Overflow-safe for any score magnitude (every exp argument is ≤ 0).
/// Error bound: `ForwardErrorBound.fast` (Proofs/online-softmax-error.md).
public enum FastAttention {
    /// - Parameters:
    ///   - threads: worker count (default: active processors). The result does
    ///     not depend on it: each q-tile is computed by one thread in a fixed order.
    ///   - checkInputs: scan Q, K, V for NaN/Inf first (default). Pass false only
    ///     for inputs already validated, e.g. a KV cache checked on append: the
    ///     scan reads all of K and V once more, which at decode (n_q = 1) costs
    ///     about as much as the attention itself.
    /// - Throws: `AttnError.usage` on shape mismatch, NaN/Inf, or causal with n_q > n_k.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func compute<T: KernelScalar>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
                                                causal: Bool = false, tiles: TileSizes = .default,
                                                threads: Int? = nil, checkInputs: Bool = true) throws -> Tensor<T> {
        try validateAttentionShapes(q: q, k: k, v: v, checkFinite: checkInputs)
        if causal { try CausalMask.validate(queries: q.rows, keys: k.rows) }
        let s = T(scale.value(d: q.cols))
        let (nq, nk, d, dv) = (q.rows, k.rows, q.cols, v.cols)
        var out = Tensor<T>(heads: q.heads, rows: nq, cols: dv, logicalRank: q.logicalRank)
        let available = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let tiles = tiles.balanced(queries: nq, heads: q.heads)
        let qTiles = (nq + tiles.queryTile - 1) / tiles.queryTile
        let jobs = q.heads * qTiles
        if jobs == 0 || dv == 0 { return out }
        let workers = min(available, jobs)
        BLASThreads.withSingleThreadedBLAS {
            PinnedAttention.with(q: q, k: k, v: v, out: &out) { p in
                Parallel.forEachJob(jobs, workers: workers) { worker in
                    let (qp, kp, vp) = (p.q, p.k, p.v)
                    let acc = OnlineSoftmaxAccumulator<T>(rows: tiles.queryTile, valueCols: dv)
                    var scores = [T](repeating: 0, count: tiles.queryTile * tiles.keyTile)
                    while let job = worker.next() {
                        let h = job / qTiles, i0 = (job % qTiles) * tiles.queryTile
                        let rows = min(tiles.queryTile, nq - i0)
                        acc.reset()
                        let lastKey = causal ? CausalMask.lastVisibleKey(row: i0 + rows - 1, queries: nq, keys: nk) : nk - 1
                        var j0 = 0
                        scores.withUnsafeMutableBufferPointer { sb in
                            let sp = sb.baseAddress!
                            while j0 <= lastKey {
                                let cols = min(tiles.keyTile, lastKey + 1 - j0)
                                T.gemm(transA: false, transB: true, m: rows, n: cols, k: d, alpha: s,
                                       a: qp + (h * nq + i0) * d, lda: d, b: kp + (h * nk + j0) * d, ldb: d,
                                       beta: 0, c: sp, ldc: tiles.keyTile)
                                if causal {
                                    for r in 0..<rows {
                                        let last = CausalMask.lastVisibleKey(row: i0 + r, queries: nq, keys: nk)
                                        var j = max(j0, last + 1)
                                        while j < j0 + cols { sp[r * tiles.keyTile + j - j0] = -.infinity; j += 1 }
                                    }
                                }
                                acc.absorb(scores: sp, ldScores: tiles.keyTile, rowLimit: rows, cols: cols,
                                           values: vp + (h * nk + j0) * dv, ldValues: dv)
                                j0 += cols
                            }
                        }
                        acc.finish(into: p.out + (h * nq + i0) * dv, ldOut: dv, rowLimit: rows)
                    }
                }
            }
        }
        return out
    }
}

import Foundation


/// OpenBLAS thread control. OpenBLAS's thread count is one process-wide
/// setting, and changing it costs a reconfiguration of its pool, so it is
/// changed rarely: our kernels parallelise over tiles themselves and run BLAS
/// single-threaded (*shared* sections, any number at once; the first one in
/// the process sets 1 thread, and it stays so). An *exclusive* section
/// (`with(threads:)`, e.g. the sgemm yardstick) waits until no shared section
/// runs, uses its own count, and returns OpenBLAS to 1 thread.
package enum BLASThreads {
    private final class State: @unchecked Sendable {
        // Mutated only under `condition`.
        let condition = NSCondition()
        var sharedDepth = 0
        var singleThreaded = false
        var exclusiveOwner: pthread_t?
    }
    private static let state = State()

    package static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
        let st = state
        st.condition.lock()
        if let owner = st.exclusiveOwner, pthread_equal(owner, pthread_self()) != 0 {
            // Nested in this thread's own exclusive section: its thread count stands.
            st.condition.unlock()
            return try body()
        }
        while st.exclusiveOwner != nil { st.condition.wait() }
        if !st.singleThreaded {
            openblas_set_num_threads(1)
            st.singleThreaded = true
        }
        st.sharedDepth += 1
        st.condition.unlock()
        defer {
            st.condition.lock()
            st.sharedDepth -= 1
            if st.sharedDepth == 0 { st.condition.broadcast() }
            st.condition.unlock()
        }
        return try body()
    }

    /// Runs `body` with OpenBLAS using `threads` threads, exclusively; OpenBLAS
    /// is single-threaded afterwards.
    package static func with<R>(threads: Int, _ body: () throws -> R) rethrows -> R {
        let st = state
        st.condition.lock()
        while st.exclusiveOwner != nil || st.sharedDepth > 0 { st.condition.wait() }
        st.exclusiveOwner = pthread_self()
        openblas_set_num_threads(Int32(threads))
        st.condition.unlock()
        defer {
            st.condition.lock()
            openblas_set_num_threads(1)
            st.singleThreaded = true
            st.exclusiveOwner = nil
            st.condition.broadcast()
            st.condition.unlock()
        }
        return try body()
    }
}
