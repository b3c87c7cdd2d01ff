import AttnCore
import AttnKernels
import Foundation

/// The order in which a q-tile visits its computed k-tiles. Online softmax is
/// exact in real arithmetic for any order; in floating point the order fixes
/// the rounding, so it is part of a kernel's definition.
public enum KeyTileOrder: String, Sendable, CaseIterable {
    case ascending
    /// Last tile first (LiteAttention).
    case descending
}

/// Work done by a block-sparse call.
public struct BlockSparseStats: Sendable, Equatable {
    /// (head, q-tile, k-tile) triples whose scores were computed.
    public var computedTiles: Int
    /// All triples, `heads·qTiles·kTiles`.
    public var totalTiles: Int
    public var skippedFraction: Double { totalTiles == 0 ? 0 : 1 - Double(computedTiles) / Double(totalTiles) }
    public init(computedTiles: Int, totalTiles: Int) {
        self.computedTiles = computedTiles
        self.totalTiles = totalTiles
    }
}

/// The result of a block-sparse call: the output with its per-row bound (the one
/// result shape, as `AttentionResult`) and the work done.
///
/// `rowBounds[head: h, row: i]` bounds |output − O^S| entrywise on row i, where O^S
/// is exact attention restricted to the keys of the k-tiles row i's q-tile computed
/// (the masked reference): `ForwardErrorBound.tiled` of the full problem with the same
/// tiles (Proofs/block-sparse-error.md; `BlockSparseTightnessTests`). It is not a bound
/// against full attention: that distance is the sparsity error.
public struct BlockSparseResult<T: AttnScalar>: Sendable {
    /// heads × n_q × d_v.
    public let output: Tensor<T>
    /// One bound per (head, row) of `output`, against the restricted problem.
    public let rowBounds: RowBounds
    public let stats: BlockSparseStats

    /// Output and bounds in the shape every kernel returns.
    public var result: AttentionResult<T> { AttentionResult(output: output, rowBounds: rowBounds) }
}

/// Block-sparse tiled attention: online softmax over the (q-tile, k-tile)
/// pairs a `TileMask` allows, on the fused kernel's tile engine (`TileEngine`: each computed
/// k-tile runs through the dense kernel's micro-kernel). A masked-out pair costs nothing.
///
/// Postcondition: row i of the output is the softmax-weighted mean of the
/// values of exactly the keys in i's computed k-tiles, i.e. exact attention
/// with every other key's weight set to zero and the rest renormalised.
/// With an all-true mask this is exact attention, with the error bound of
/// `ForwardErrorBound.tiled` (the fused kernel's bound; the tile count is the
/// number of computed k-tiles, each cut into tiles of at most 256 keys).
public enum BlockSparseAttention {
    /// - Parameters:
    ///   - mask: `[heads, ⌈n_q/queryTile⌉, ⌈n_k/keyTile⌉]`; every q-tile must compute ≥ 1 k-tile.
    ///   - order: k-tile visiting order (fixes the rounding, see `KeyTileOrder`).
    ///   - threads: worker count; the result does not depend on it.
    /// - Returns: the output, its per-row bound against the restricted problem and the work done.
    /// - Throws: `AttnError.usage` on shape mismatch, NaN/Inf, or an empty mask row.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func compute<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        mask: TileMask, tiles: TileSizes, order: KeyTileOrder = .ascending,
        threads: Int? = nil
    ) throws -> BlockSparseResult<T> {
        try validate(q: q, k: k, v: v, mask: mask, tiles: tiles)
        let (nq, nk, d, dv) = (q.rows, k.rows, q.cols, v.cols)
        var out = Tensor<T>(heads: q.heads, rows: nq, cols: dv, logicalRank: q.logicalRank)
        let stats = BlockSparseStats(computedTiles: mask.computedCount, totalTiles: mask.bits.count)
        // O(heads·(n_q + n_k)·d): negligible beside the tiles, so always returned.
        let bounds = ForwardErrorBound.tiled(q: q, k: k, v: v, scale: scale, tiles: tiles)
        let jobs = q.heads * mask.qTiles
        if jobs == 0 || dv == 0 { return BlockSparseResult(output: out, rowBounds: bounds, stats: stats) }
        let workers = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, jobs))
        let s = scale.value(d: d)
        // Jobs with the most computed tiles first, so that the run does not end on one long job (the result does
        // not depend on the order: each job is computed by one thread).
        let work = (0..<jobs).map { j in
            (0..<mask.kTiles).reduce(0) { $0 + (mask[j / mask.qTiles, j % mask.qTiles, $1] ? 1 : 0) }
        }
        let schedule = (0..<jobs).sorted { work[$0] != work[$1] ? work[$0] > work[$1] : $0 < $1 }
        // Kᵀ packed once per head when the k-tiles start on the kernel's 256-key tiles (jobs then never pack).
        let packs = tiles.keyTile % FastAttention.keyTile == 0 && mask.qTiles > 1
        let packedCount = TileEngine<T>.packedCount(keys: nk, d: d)
        PinnedAttention.with(q: q, k: k, v: v, out: &out) { p in
            let packed =
                packs
                ? UnsafeSendablePointer(
                    TileEngine<T>.packKeys(p.k, heads: q.heads, keys: nk, d: d, isa: .auto, threads: workers)) : nil
            defer { packed?.pointer.deallocate() }
            Parallel.forEachJob(jobs, workers: workers) { worker in
                let engine = TileEngine<T>(maxRows: tiles.queryTile, d: d, valueCols: dv, scale: s)
                while let next = worker.next() {
                    let job = schedule[next]
                    let h = job / mask.qTiles, qt = job % mask.qTiles
                    let i0 = qt * tiles.queryTile, rows = min(tiles.queryTile, nq - i0)
                    engine.begin(
                        q: p.q + (h * nq + i0) * d, rows: rows, k: p.k + h * nk * d, v: p.v + h * nk * dv,
                        out: p.out + (h * nq + i0) * dv,
                        kPacked: packed.map { UnsafePointer($0.pointer + h * packedCount) })
                    for kt in orderedTiles(mask.kTiles, order) where mask[h, qt, kt] {
                        let j0 = kt * tiles.keyTile
                        engine.attend(keys: j0..<min(j0 + tiles.keyTile, nk))
                    }
                    engine.finish()
                }
            }
        }
        return BlockSparseResult(output: out, rowBounds: bounds, stats: stats)
    }

    /// k-tile indices `0..<count` in the given order.
    static func orderedTiles(_ count: Int, _ order: KeyTileOrder) -> [Int] {
        order == .ascending ? Array(0..<count) : Array((0..<count).reversed())
    }

    static func validate<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, mask: TileMask,
        tiles: TileSizes
    ) throws {
        try validateAttentionShapes(q: q, k: k, v: v)
        let qt = TileMask.tileCount(q.rows, tile: tiles.queryTile), kt = TileMask.tileCount(k.rows, tile: tiles.keyTile)
        guard mask.heads == q.heads, mask.qTiles == qt, mask.kTiles == kt else {
            throw AttnError.usage(
                "mask shape [\(mask.heads), \(mask.qTiles), \(mask.kTiles)] does not match "
                    + "[heads, q-tiles, k-tiles] = [\(q.heads), \(qt), \(kt)]")
        }
        for h in 0..<mask.heads {
            for i in 0..<mask.qTiles where !(0..<mask.kTiles).contains(where: { mask[h, i, $0] }) {
                throw AttnError.usage("mask: head \(h), q-tile \(i) computes no k-tile (its rows would be undefined)")
            }
        }
    }
}
