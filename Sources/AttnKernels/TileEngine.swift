import AttnCore
import CVectorMath

/// The fused kernel's register-tile engine, one key range at a time: the one tile engine of dense, block-sparse
/// and masked attention. `FastAttention` runs it over a job's own tiles (in C); the block-sparse kernels
/// (`BlockSparseAttention`, LiteAttention, db-SP's ranks) feed it the key tiles of a tile list, in their order,
/// through this class. Every key range is cut into tiles of at most 256 keys from its start and each goes through
/// the same micro-kernel (scores in registers, online softmax, O += P·V), so the fused kernel's error bound holds
/// with T the number of those tiles (`ForwardErrorBound.tiled`, Proofs/block-sparse-error.md).
///
/// One instance per worker thread; it owns the job's scratch, which holds Q (prescaled), O, m and l between calls.
package final class TileEngine<T: KernelScalar> {
    private let scratch: UnsafeMutableRawPointer
    private var job = attnbound_fused_job()
    /// The most rows one `begin` may take.
    package let maxRows: Int
    /// The kernel copy it runs (packed keys must come from the same).
    package let isa: KernelISA

    /// Elements of one head's packed Kᵀ.
    package static func packedCount(keys nk: Int, d: Int) -> Int { attnbound_fused_packed_k_count(nk, d) }

    /// Kᵀ of every head of `k` (heads × n_k × d) in the layout of the copy `isa` runs, for `begin(kPacked:)`:
    /// `attnbound_fused_packed_k_count(n_k, d)` elements per head. Threads over (head, tile group).
    package static func packKeys(_ k: UnsafePointer<T>, heads: Int, keys nk: Int, d: Int, isa: KernelISA, threads: Int)
        -> UnsafeMutablePointer<T>
    {
        let count = packedCount(keys: nk, d: d), tiles = (nk + FastAttention.keyTile - 1) / FastAttention.keyTile
        let packed = UnsafeSendablePointer(UnsafeMutablePointer<T>.allocate(capacity: max(1, heads * count)))
        let src = UnsafeSendablePointer(UnsafeMutablePointer(mutating: k))
        let groups = min(tiles, 8)
        Parallel.forEachJob(heads * groups, workers: max(1, min(threads, heads * groups))) { worker in
            while let job = worker.next() {
                let h = job / groups, g = job % groups
                T.packKeys(
                    isa: isa, k: src.pointer + h * nk * d, keys: nk, d: d,
                    tiles: g * tiles / groups..<(g + 1) * tiles / groups, into: packed.pointer + h * count)
            }
        }
        return packed.pointer
    }

    /// - Parameters: rows at most `maxRows` per `begin`, head dimension `d`, `valueCols` columns of V, `scale`
    ///   the softmax scale's value (rounded to `T` by the kernel, as `FastAttention`).
    package init(maxRows: Int, d: Int, valueCols: Int, scale: Double, isa: KernelISA = .auto) {
        self.isa = isa
        self.maxRows = max(1, maxRows)
        let bytes = attnbound_fused_scratch_bytes(self.maxRows, d, valueCols, Int32(MemoryLayout<T>.size))
        scratch = .allocate(byteCount: bytes, alignment: 64)
        (job.scratch, job.d, job.dv, job.scale, job.isa) = (scratch, d, valueCols, scale, isa.rawValue)
    }

    deinit { scratch.deallocate() }

    /// Starts `rows` query rows at `q` (rows × d, row-major) against one head's keys `k` (n_k × d) and values `v`
    /// (n_k × d_v); `finish` writes the rows at `out` (rows × d_v).
    /// `kPacked`: the head's Kᵀ from `packKeys` (every tile, this engine's ISA), read for ranges that start on a
    /// 256-key boundary instead of packing the tile again; nil packs every tile in the scratch.
    package func begin(
        q: UnsafePointer<T>, rows: Int, k: UnsafePointer<T>, v: UnsafePointer<T>, out: UnsafeMutablePointer<T>,
        kPacked: UnsafePointer<T>? = nil
    ) {
        precondition(rows <= maxRows, "TileEngine: \(rows) rows > \(maxRows)")
        (job.q, job.rows, job.k, job.v, job.out) = (
            UnsafeRawPointer(q), rows, UnsafeRawPointer(k), UnsafeRawPointer(v), UnsafeMutableRawPointer(out)
        )
        job.k_packed = kPacked.map { UnsafeRawPointer($0) }
        withUnsafePointer(to: &job) { T.tileBegin($0) }
    }

    /// Absorbs keys `keys` (indices into the head's K and V), in tiles of at most 256 keys from `keys.lowerBound`.
    /// Returns LiteAttention's level in natural-log units when `level`: max over rows of (the row's largest score
    /// in the range − its running max before it), +∞ for the rows' first keys; otherwise −∞.
    @discardableResult
    package func attend(keys: Range<Int>, level: Bool = false) -> T {
        withUnsafePointer(to: &job) { T.tileRange($0, keys: keys, level: level) }
    }

    /// Writes the normalised rows O/l (a row that saw no key: 0).
    package func finish() { withUnsafePointer(to: &job) { T.tileFinish($0) } }
}
