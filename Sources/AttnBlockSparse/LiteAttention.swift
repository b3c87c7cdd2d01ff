import AttnCore
import AttnKernels
import Foundation

/// Settings of LiteAttention's temporal skip rule.
public struct LiteConfig: Sendable, Equatable {
    /// Threshold in log₂ units (LiteAttention's defaults: −10 in Python, −3 in
    /// the kernel). −∞ never marks a tile; +∞ marks every tile but the first.
    public var threshold: Double
    public var tiles: TileSizes
    /// Key token ranges whose k-tiles are always computed (a tile is must-do
    /// if any of its keys is).
    public var mustDo: [Range<Int>]
    /// Key token ranges never computed (a tile is must-skip if all its keys
    /// are, and it is not must-do).
    public var mustSkip: [Range<Int>]

    public init(
        threshold: Double, tiles: TileSizes = TileSizes(queryTile: 128, keyTile: 128),
        mustDo: [Range<Int>] = [], mustSkip: [Range<Int>] = []
    ) {
        self.threshold = threshold
        self.tiles = tiles
        self.mustDo = mustDo
        self.mustSkip = mustSkip
    }

    /// Per k-tile class: nil = free, true = must-do, false = must-skip.
    func forced(keys nk: Int) throws -> [Bool?] {
        guard !threshold.isNaN else { throw AttnError.usage(.threshold, "must not be NaN") }
        for r in mustDo + mustSkip where r.lowerBound < 0 || r.upperBound > nk || r.isEmpty {
            throw AttnError.usage("token range \(r.lowerBound)..<\(r.upperBound) is empty or outside 0..<\(nk)")
        }
        let kt = TileMask.tileCount(nk, tile: tiles.keyTile)
        var out = [Bool?](repeating: nil, count: kt)
        for t in 0..<kt {
            let keys = (t * tiles.keyTile)..<min((t + 1) * tiles.keyTile, nk)
            if mustDo.contains(where: { $0.overlaps(keys) }) { out[t] = true; continue }
            if keys.allSatisfy({ j in mustSkip.contains(where: { $0.contains(j) }) }) { out[t] = false }
        }
        guard out.contains(where: { $0 != false }) else {
            throw AttnError.usage(.mustSkip, "covers every key: no tile is left to compute")
        }
        return out
    }
}

/// What one LiteAttention step did.
public struct LiteStepStats: Sendable, Equatable {
    /// Tiles computed at this step, and all tiles.
    public var work: BlockSparseStats
    /// Tiles this step marked skippable (they were computed now and are skipped from the next step on).
    public var newlyMarked: Int
}

/// LiteAttention's temporal tile skipping (moonmath-ai/LiteAttention), as a
/// CPU reference kernel.
///
/// At each step, every q-tile visits the k-tiles of the read skip list, last
/// tile first. Before absorbing tile j, for each row r it compares the tile's
/// row max m_loc with the running max m_prev of the tiles already absorbed;
/// the tile is *needed* if for some row (m_loc − m_prev)·log₂e > thr. The
/// first tile computed is always needed. The tile is absorbed either way
/// (its scores exist), and the written list keeps exactly the needed tiles
/// and the must-do tiles.
///
/// Guarantee at the deciding step (Proofs/lite-skip-rule.md): a tile marked
/// skippable has, in every row, total weight ≤ cols·2^thr / l_prev ≤ cols·2^thr
/// in the exact softmax over all keys. Nothing is guaranteed at later steps,
/// where the tile is no longer looked at.
public enum LiteAttention {
    /// One denoising step: computes attention over the tiles `state` allows,
    /// decides skips for the next step and flips the lists.
    ///
    /// - Postcondition: the new compute set ⊆ the old one (until `state.reset()`).
    /// - Throws: `AttnError.usage` on bad shapes, NaN/Inf, NaN threshold, bad ranges.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func step<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        config: LiteConfig, state: inout LiteSkipState,
        threads: Int? = nil
    ) throws -> (output: Tensor<T>, stats: LiteStepStats) {
        var none: [Double]? = nil
        return try step(q: q, k: k, v: v, scale: scale, config: config, state: &state, threads: threads, levels: &none)
    }

    /// `step`, also returning each tile's level λ in `levels` (when non-nil on entry), laid out as the
    /// skip lists `[heads, qTiles, kTiles]`: +∞ for a tile kept whatever the threshold (the first tile
    /// computed, must-do tiles), −∞ for a tile not computed, otherwise max_r (m_loc − m_prev)·log₂e.
    /// The written list is exactly {computed tiles with λ > thr} (`LiteCalibration` relies on this).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func step<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        config: LiteConfig, state: inout LiteSkipState,
        threads: Int?, levels: inout [Double]?
    ) throws -> (output: Tensor<T>, stats: LiteStepStats) {
        try validateAttentionShapes(q: q, k: k, v: v)
        let forced = try config.forced(keys: k.rows)
        let tiles = config.tiles
        let (nq, nk, d, dv) = (q.rows, k.rows, q.cols, v.cols)
        let qTiles = TileMask.tileCount(nq, tile: tiles.queryTile), kTiles = forced.count
        state.conform(heads: q.heads, qTiles: qTiles, kTiles: kTiles)
        let read = state.lists[state.readIndex]
        var written = [Bool](repeating: false, count: read.count)
        var computed = [Int](repeating: 0, count: q.heads * qTiles)
        var marked = [Int](repeating: 0, count: q.heads * qTiles)
        let wantLevels = levels != nil
        var levelBuffer = [Double](repeating: -.infinity, count: wantLevels ? read.count : 0)
        var out = Tensor<T>(heads: q.heads, rows: nq, cols: dv, logicalRank: q.logicalRank)
        let thr = T(config.threshold), log2e = T(1.442_695_040_888_963_4)
        let jobs = q.heads * qTiles
        if jobs == 0 || dv == 0 {  // nothing to score: no decision, the lists stay as they are
            state.commit(read)
            return (
                out, LiteStepStats(work: BlockSparseStats(computedTiles: 0, totalTiles: read.count), newlyMarked: 0)
            )
        }
        let workers = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, jobs))
        let sv = scale.value(d: d)
        PinnedAttention.with(q: q, k: k, v: v, out: &out) { p in
            written.withUnsafeMutableBufferPointer { wb in
                computed.withUnsafeMutableBufferPointer { cb in
                    marked.withUnsafeMutableBufferPointer { mb in
                        levelBuffer.withUnsafeMutableBufferPointer { lb in
                            let wp = UnsafeSendablePointer(wb.baseAddress!), cp = UnsafeSendablePointer(cb.baseAddress!)
                            let mp = UnsafeSendablePointer(mb.baseAddress!)
                            let lp = wantLevels ? UnsafeSendablePointer(lb.baseAddress!) : nil
                            Parallel.forEachJob(jobs, workers: workers) { worker in
                                let engine = TileEngine<T>(maxRows: tiles.queryTile, d: d, valueCols: dv, scale: sv)
                                while let job = worker.next() {
                                    let h = job / qTiles, qt = job % qTiles
                                    let i0 = qt * tiles.queryTile, rows = min(tiles.queryTile, nq - i0)
                                    let base = job * kTiles  // (h·qTiles + qt)·kTiles
                                    engine.begin(
                                        q: p.q + (h * nq + i0) * d, rows: rows, k: p.k + h * nk * d,
                                        v: p.v + h * nk * dv, out: p.out + (h * nq + i0) * dv)
                                    var first = true, count = 0, newlyMarked = 0
                                    for kt in stride(from: kTiles - 1, through: 0, by: -1) {
                                        guard forced[kt] ?? read[base + kt] else { continue }
                                        let j0 = kt * tiles.keyTile, cols = min(tiles.keyTile, nk - j0)
                                        // The tile's level λ = max_r (m_loc − m_prev)·log₂e (+∞ for the first tile):
                                        // it is needed iff λ > thr. The engine returns max_r (m_loc − m_prev) as it
                                        // absorbs the tile (fl(x·log₂e) is monotone in x, so scaling the max is the
                                        // max of the scaled). Computing λ rather than stopping at the first row over
                                        // thr lets calibration try every threshold from one pass.
                                        let gap = engine.attend(keys: j0..<j0 + cols, level: true)
                                        let level = first ? T.infinity : gap * log2e
                                        let keep = level > thr || forced[kt] == true
                                        if let lp {
                                            lp.pointer[base + kt] = forced[kt] == true ? .infinity : Double(level)
                                        }
                                        wp.pointer[base + kt] = keep
                                        if !keep { newlyMarked += 1 }
                                        first = false
                                        count += 1
                                    }
                                    cp.pointer[job] = count
                                    mp.pointer[job] = newlyMarked
                                    engine.finish()
                                }
                            }
                        }
                    }
                }
            }
        }
        if wantLevels { levels = levelBuffer }
        let work = BlockSparseStats(computedTiles: computed.reduce(0, +), totalTiles: read.count)
        state.commit(written)
        return (out, LiteStepStats(work: work, newlyMarked: marked.reduce(0, +)))
    }
}
