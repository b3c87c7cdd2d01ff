import AttnCore
import CVectorMath
import Foundation

/// Exact attention by a fused online-softmax kernel (FlashAttention-2 order):
/// O(n_q·n_k·d) time, O(tile) extra memory, the score tile kept in registers
/// and L1 (Sources/CVectorMath/fused_kernel.inc, one copy per ISA), threads
/// over (head, row block) jobs, and over key ranges (split-K) when there are
/// too few row blocks, e.g. at decode (n_q = 1).
///
/// Masks: the causal mask and windows bounded on the right (either alignment) are native: key
/// tiles are visited only up to the last key visible to a job's last row, and within a tile only the key chunks (64 keys with AVX-512)
/// visible to a group of 4–6 rows (the register tile) are computed; masking
/// is applied only where a chunk crosses the diagonal. A row that sees no key outputs 0.
/// Overflow-safe for any score magnitude (every exp argument is ≤ 0). Other terms of the
/// score model are refused (`ScoreModel.requireSupported`) until the kernel computes them.
///
/// Decode: jobs of fewer rows than the register tile (n_q = 1) take a one-row path
/// that reads K in place (no Kᵀ packing) with the same per-row summation order, so
/// the same bound holds.
///
/// Error bound: `ForwardErrorBound.fastAttention` (Proofs/online-softmax-error.md),
/// checked by `FastVsReferenceTests` and `KernelsVsCertifiedTests`.
public enum FastAttention {
    /// Keys per tile of the fused kernel (the T of the error bound counts these tiles).
    public static let keyTile = Int(ATTNBOUND_FUSED_KEY_TILE)

    /// Number of key ranges (split-K) a problem is cut into: more than one only
    /// when there are fewer than 8 (head, row block) jobs and at least 4096 keys;
    /// each range then has at least 2048 keys. Depends on the shape only, never
    /// on the thread count, so results do not either.
    public static func keySplits(queries nq: Int, keys nk: Int, heads: Int, tiles: TileSizes = .default) -> Int {
        let rows = tiles.balanced(queries: nq, heads: heads).queryTile
        let jobs = heads * ((nq + rows - 1) / rows)
        guard jobs < 8, nk >= 4096 else { return 1 }
        return min(nk / 2048, max(1, 16 / max(1, jobs)))  // ≤ ⌈n_k/256⌉/8: every range has whole tiles
    }

    /// - Parameters:
    ///   - tiles: `queryTile` is the number of query rows per job (balanced
    ///     down for small problems); the key tile is always `keyTile`.
    ///   - threads: worker count (default: active processors). The result does
    ///     not depend on it: each job is computed by one thread in a fixed order.
    ///   - checkInputs: scan Q, K, V for NaN/Inf first (default). Pass false only
    ///     for inputs already validated, e.g. a KV cache checked on append: the
    ///     scan reads all of K and V once more, which at decode (n_q = 1) costs
    ///     about as much as the attention itself.
    ///   - isa: which copy of the kernel runs (tests and benchmarks force the baseline with it).
    /// - Throws: `AttnError.usage` on shape mismatch, NaN/Inf, a score model that does not fit the
    ///   shapes, or a term of it the kernel does not compute yet.
    // Exported specialisations: a client calling with Float or Double from its own module gets them. Generic, the
    // NaN/Inf scan alone cost a third of a one-thread call (8 ms of 25 at n = 4096, d = 64).
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    public static func compute<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        scoreModel: ScoreModel = .plain, tiles: TileSizes = .default,
        threads: Int? = nil, checkInputs: Bool = true,
        isa: KernelISA = .auto
    ) throws -> Tensor<T> {
        try validateAttentionShapes(q: q, k: k, v: v, checkFinite: checkInputs)
        let (heads, nq, nk, d, dv) = (q.heads, q.rows, k.rows, q.cols, v.cols)
        try scoreModel.validate(batch: q.batch, heads: q.headsPerBatch, queries: nq, keys: nk)
        try scoreModel.requireSupported([], by: "the fast kernel")
        // Right-bounded windows (causal): key j is visible to row i iff j ≤ i + shift + R; a bound that every
        // row's diagonal reaches past the last key (R ≥ n_k − 1 − shift) is no bound (and cannot overflow).
        let shift = scoreModel.mask.alignment.shift(queries: nq, keys: nk)
        let rightBound = scoreModel.mask.window?.right.flatMap { $0 >= nk - 1 - shift ? nil : $0 }
        var out = Tensor<T>(heads: heads, rows: nq, cols: dv, logicalRank: q.logicalRank)
        let rowsPerJob = tiles.balanced(queries: nq, heads: heads).queryTile
        let qBlocks = (nq + rowsPerJob - 1) / rowsPerJob
        let splits = keySplits(queries: nq, keys: nk, heads: heads, tiles: tiles)
        let jobs = heads * qBlocks * splits
        if jobs == 0 || dv == 0 { return out }
        let workers = min(max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount), jobs)
        let scratchBytes = attnbound_fused_scratch_bytes(rowsPerJob, d, dv, Int32(MemoryLayout<T>.size))
        let s = scale.value(d: d)
        // Partial softmaxes of the key ranges (split-K), merged below: [split][head][row].
        let partials = splits > 1 ? PartialSoftmax<T>(splits: splits, rows: heads * nq, valueCols: dv) : nil
        // Kᵀ packed once per head in the layout of the kernel copy (jobs then never transpose K);
        // key ranges start on 256-key tiles so that they index it. Not when every job has fewer rows
        // than the register tile (decode): those read K in place, and packing would triple the bytes moved.
        let keyTiles = (nk + keyTile - 1) / keyTile
        let packs = min(nq, rowsPerJob) >= Int(attnbound_fused_row_block(isa.rawValue, Int32(MemoryLayout<T>.size)))
        let packedCount = packs ? attnbound_fused_packed_k_count(nk, d) : 0
        let packed = UnsafeSendablePointer(UnsafeMutablePointer<T>.allocate(capacity: heads * packedCount))
        defer { packed.pointer.deallocate() }
        PinnedAttention.with(q: q, k: k, v: v, out: &out) { p in
            let groups = packs ? min(keyTiles, 8) : 0
            Parallel.forEachJob(heads * groups, workers: max(1, min(workers, heads * groups))) { worker in
                while let job = worker.next() {
                    let h = job / groups, g = job % groups
                    T.packKeys(
                        isa: isa, k: p.k + h * nk * d, keys: nk, d: d,
                        tiles: g * keyTiles / groups..<(g + 1) * keyTiles / groups,
                        into: packed.pointer + h * packedCount)
                }
            }
            Parallel.forEachJob(jobs, workers: workers) { worker in
                let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
                defer { scratch.deallocate() }
                while let job = worker.next() {
                    let split = job % splits, rest = job / splits
                    // Causal: the longest row blocks (the last) first, so the tail of the run is short jobs.
                    let h = rest / qBlocks, b = rightBound != nil ? qBlocks - 1 - rest % qBlocks : rest % qBlocks
                    let i0 = b * rowsPerJob, rows = min(rowsPerJob, nq - i0)
                    let row = h * nq + i0
                    var cj = attnbound_fused_job()
                    cj.q = UnsafeRawPointer(p.q + row * d)
                    cj.k = UnsafeRawPointer(p.k + h * nk * d)
                    cj.v = UnsafeRawPointer(p.v + h * nk * dv)
                    if let partials {
                        cj.out = UnsafeMutableRawPointer(partials.output.pointer + (split * heads * nq + row) * dv)
                        cj.part_max = UnsafeMutableRawPointer(partials.rowMax.pointer + split * heads * nq + row)
                        cj.part_sum = UnsafeMutableRawPointer(partials.rowSum.pointer + split * heads * nq + row)
                    } else {
                        cj.out = UnsafeMutableRawPointer(p.out + row * dv)
                    }
                    cj.scratch = scratch
                    cj.rows = rows
                    cj.d = d
                    cj.dv = dv
                    cj.key_begin = split * keyTiles / splits * keyTile
                    cj.key_end = min(nk, (split + 1) * keyTiles / splits * keyTile)
                    cj.k_packed = packs ? UnsafeRawPointer(packed.pointer + h * packedCount) : nil
                    cj.causal_offset = i0 + shift + (rightBound ?? 0)
                    cj.scale = s
                    cj.causal = rightBound != nil ? 1 : 0
                    cj.isa = isa.rawValue
                    T.fusedAttention(&cj)
                }
            }
            partials?.merge(into: p.out)
        }
        return out
    }
}
