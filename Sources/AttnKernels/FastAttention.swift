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

    /// How `compute` cuts a problem into jobs. `ForwardErrorBound.fastAttention` reads the same plan, so
    /// the bound counts the split-K merge exactly when the kernel does one.
    package struct Plan: Equatable, Sendable {
        /// Query heads per KV head (GQA; 1 without): query head h reads KV head h / group.
        package let group: Int
        /// Decode: one job holds the rows of every query head of a group (head after head), so each tile
        /// of K and V is read once for all of them.
        package let grouped: Bool
        /// Grouped jobs take the few-row path (K in place, tile by tile) whatever their row count.
        package let inPlace: Bool
        /// Query rows per job of one head (grouped: all n_q rows).
        package let rowsPerJob: Int
        /// Key ranges (split-K), each of whole 256-key tiles.
        package let splits: Int
    }

    /// The plan of a problem with `heads` query heads over `kvHeads` KV heads. Depends on the shape
    /// only, never on the thread count, so results do not either.
    ///
    /// Decode (n_q ≤ 16 per head): the group's heads form one job of group·n_q rows, in the few-row path
    /// up to 16 rows (beyond, the register tile, with Kᵀ packed tile by tile in the job: still one pass).
    /// Row-dependent masks (`rowMasked`: causal, windows) with n_q > 1 need the few-row path (its rows'
    /// positions repeat head after head): beyond 16 rows such problems run head by head. Terms that differ
    /// from head to head (`headTerms`: explicit masks, bias, ALiBi, sinks) never share a job: each query
    /// head gets its own. Split-K when there are fewer than 8 jobs and at least 4096 keys; each range then
    /// has at least 2048 keys.
    package static func plan(
        queries nq: Int, keys nk: Int, heads: Int, kvHeads: Int, causal rowMasked: Bool, headTerms: Bool = false,
        tiles: TileSizes = .default
    ) -> Plan {
        let group = kvHeads > 0 && heads % kvHeads == 0 ? heads / kvHeads : 1
        let balanced = tiles.balanced(queries: nq, heads: heads).queryTile
        let rows = group * nq
        // The bound charges row i the keys of its query tile (`balanced`): a grouped job must not see more.
        let grouped = nq <= 16 && balanced >= nq && (rows <= 16 || !rowMasked) && !headTerms
        let rowsPerJob = grouped ? nq : balanced
        let jobs = grouped ? heads / group : heads * ((nq + rowsPerJob - 1) / rowsPerJob)
        var splits = 1
        if jobs < 8, nk >= 4096 { splits = min(nk / 2048, max(1, 16 / max(1, jobs))) }  // ≤ ⌈n_k/256⌉/8
        return Plan(
            group: group, grouped: grouped, inPlace: grouped && rows <= 16, rowsPerJob: rowsPerJob, splits: splits)
    }

    /// The plan of `compute` for a score model (and so of its bound).
    package static func plan(
        _ model: ScoreModel, queries nq: Int, keys nk: Int, heads: Int, kvHeads: Int, tiles: TileSizes = .default
    ) -> Plan {
        let rowMasked = rightBound(model, queries: nq, keys: nk) != nil || model.mask.window?.left != nil
        let headTerms =
            model.mask.explicit != nil || model.bias != nil || model.alibiSlopes != nil || model.sinks != nil
        return plan(
            queries: nq, keys: nk, heads: heads, kvHeads: kvHeads, causal: rowMasked, headTerms: headTerms,
            tiles: tiles)
    }

    /// The window's right bound R as the kernel applies it (key j visible to row i iff j ≤ i + shift + R), or
    /// nil when every row's diagonal reaches past the last key (R ≥ n_k − 1 − shift): no bound.
    package static func rightBound(_ model: ScoreModel, queries nq: Int, keys nk: Int) -> Int? {
        let shift = model.mask.alignment.shift(queries: nq, keys: nk)
        return model.mask.window?.right.flatMap { $0 >= nk - 1 - shift ? nil : $0 }
    }

    /// Number of key ranges (split-K) a problem is cut into (`plan(…).splits`).
    public static func keySplits(
        _ model: ScoreModel = .plain, queries nq: Int, keys nk: Int, heads: Int, kvHeads: Int? = nil,
        tiles: TileSizes = .default
    ) -> Int {
        plan(model, queries: nq, keys: nk, heads: heads, kvHeads: kvHeads ?? heads, tiles: tiles).splits
    }

    /// - Parameters:
    ///   - k, v: one head per query head, or GQA (as PyTorch's `enable_gqa`): `k.heads` divides
    ///     `q.heads` and query head h reads KV head h / (q.heads / k.heads), in place (no copy).
    ///   - tiles: `queryTile` is the number of query rows per job (balanced
    ///     down for small problems); the key tile is always `keyTile`.
    ///   - threads: worker count (default: active processors). The result does
    ///     not depend on it: each job is computed by one thread in a fixed order.
    ///   - checkInputs: refuse NaN/Inf in Q, K, V (default). At decode the kernel itself flags a
    ///     non-finite score or output (every non-finite entry of K or V it reads makes one), and only
    ///     then are K and V scanned, so the check costs no second pass over the KV cache. Pass false
    ///     only for inputs already validated, e.g. a KV cache checked on append.
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
        try forward(
            q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, tiles: tiles, threads: threads,
            checkInputs: checkInputs, isa: isa, lse: false
        ).output
    }

    /// As `compute`, and each row's log-sum-exp ln(Σ_j exp(score_ij) + exp(σ)) in precision `T` (natural log,
    /// sinks included; −∞ for a row with no visible key and no sink), `heads × n_q` row-major.
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    public static func forward<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        scoreModel: ScoreModel = .plain, tiles: TileSizes = .default,
        threads: Int? = nil, checkInputs: Bool = true,
        isa: KernelISA = .auto, lse wantLSE: Bool = true
    ) throws -> (output: Tensor<T>, lse: [T]) {
        try run(
            q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, tiles: tiles, threads: threads,
            checkInputs: checkInputs, isa: isa, lse: wantLSE, statistics: nil)
    }

    /// The fused kernel's row statistics, unmerged and unnormalised: for every (query head, row), the final running
    /// max m̂, the denominator l̂ = Σ_j exp(x̂_j − m̂) and the numerator N̂ = Σ_j exp(x̂_j − m̂)·v_j, into `statistics`
    /// (one range: the keys are never split, so there is nothing to merge). The backward pass's row statistics
    /// (`FusedBackward`): its error bound takes the forward's weights and depths (Proofs/backward-error.md §1).
    /// The inputs must already be validated (finite, shapes); no row is widened.
    static func statistics<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale, scoreModel: ScoreModel, threads: Int?,
        into statistics: PartialSoftmax<T>
    ) throws {
        precondition(statistics.splits == 1 && statistics.rows == q.heads * q.rows && statistics.valueCols == v.cols)
        statistics.rowMax.pointer.initialize(repeating: -.infinity, count: statistics.rows)  // rows no job visits
        statistics.rowSum.pointer.initialize(repeating: 0, count: statistics.rows)
        _ = try run(
            q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, tiles: .default, threads: threads,
            checkInputs: false, isa: .auto, lse: false, statistics: statistics)
    }

    /// `forward`, or with `statistics` the unnormalised rows of one key range (`statistics(…)`).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func run<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale, scoreModel: ScoreModel, tiles: TileSizes,
        threads: Int?, checkInputs: Bool, isa: KernelISA, lse wantLSE: Bool, statistics: PartialSoftmax<T>?
    ) throws -> (output: Tensor<T>, lse: [T]) {
        if q.heads == k.heads {
            try validateAttentionShapes(q: q, k: k, v: v, checkFinite: false)
        } else {
            _ = try AttentionShape(q: q, k: k, v: v, checkFinite: false)  // GQA: k.heads must divide q.heads
        }
        let (heads, nq, nk, d, dv) = (q.heads, q.rows, k.rows, q.cols, v.cols)
        try scoreModel.validate(batch: q.batch, heads: q.headsPerBatch, queries: nq, keys: nk)
        try requireRepresentable(scoreModel, in: T.self, queries: nq, keys: nk)
        let model = scoreModel, hpb = max(1, q.headsPerBatch)
        var lse = [T](repeating: -.infinity, count: wantLSE ? heads * nq : 0)
        // Right-bounded windows (causal): key j is visible to row i iff j ≤ i + shift + R; a bound that every
        // row's diagonal reaches past the last key (R ≥ n_k − 1 − shift) is no bound (and cannot overflow).
        let shift = scoreModel.mask.alignment.shift(queries: nq, keys: nk)
        let rightBound = Self.rightBound(scoreModel, queries: nq, keys: nk)
        let left = scoreModel.mask.window?.left
        let plan = plan(scoreModel, queries: nq, keys: nk, heads: heads, kvHeads: k.heads, tiles: tiles)
        let (group, splits, rowsPerJob) = (plan.group, statistics == nil ? plan.splits : 1, plan.rowsPerJob)
        let qBlocks = (nq + rowsPerJob - 1) / rowsPerJob
        // A job: (query head, row block) or, grouped, (KV head); times the key range.
        let units = plan.grouped ? k.heads : heads * qBlocks
        let jobRows = plan.grouped ? group * nq : rowsPerJob
        let jobs = units * splits
        // At decode the few-row path's flag covers K when every job's last row sees every key of its range: no
        // mask but the window's right bound, which the last query row of the head must not clip. (The flag reads
        // the dot products before any score term, so the terms do not hide a non-finite key.)
        let lastRowSeesAll = (rightBound.map { nq - 1 + shift + $0 + 1 >= nk } ?? true) && left == nil
        let fusedCheck =
            checkInputs && jobs > 0 && qBlocks == 1 && lastRowSeesAll && scoreModel.mask.explicit == nil
            && (plan.inPlace || jobRows < Int(attnbound_fused_row_block(isa.rawValue, Int32(MemoryLayout<T>.size))))
        if checkInputs {
            for (p, name, t) in [(Parameter.q, "Q", q), (.k, "K", k), (.v, "V", v)]
            where (p == .q || !fusedCheck) && !t.isFinite {
                throw AttnError.usage(p, "\(name) contains NaN or Inf")
            }
        }
        var out = Tensor<T>(heads: heads, rows: nq, cols: dv, logicalRank: q.logicalRank)
        if jobs == 0 || dv == 0 { return (out, lse) }
        // Tile classes of each job's rows (TileMap, the one classifier): empty tiles are skipped, the explicit mask
        // applies to partial ones only. Only for left windows and explicit masks (causal needs none). A grouped
        // job (no mask term but a window, the same for every head) reads its first head's classes.
        let keyTileCount = (nk + keyTile - 1) / keyTile
        var classes: [UInt8] = []
        if left != nil || scoreModel.mask.explicit != nil {
            let map = TileMap(
                mask: scoreModel.mask, batch: q.batch, heads: hpb, queries: nq, keys: nk, queryTile: rowsPerJob,
                keyTile: keyTile)
            classes.reserveCapacity(heads * qBlocks * keyTileCount)
            for f in 0..<heads {
                for b in 0..<qBlocks {
                    for t in 0..<keyTileCount { classes.append(map[head: f, rowTile: b, keyTile: t].rawValue) }
                }
            }
        }
        let workers = min(max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount), jobs)
        let scratchBytes = attnbound_fused_scratch_bytes(jobRows, d, dv, Int32(MemoryLayout<T>.size))
        let s = scale.value(d: d)
        // Partial softmaxes of the key ranges (split-K), merged below: [split][head][row].
        let partials =
            statistics ?? (splits > 1 ? PartialSoftmax<T>(splits: splits, rows: heads * nq, valueCols: dv) : nil)
        // Kᵀ packed once per KV head in the layout of the kernel copy, when several jobs read the same head
        // (jobs then never transpose K); key ranges start on 256-key tiles so that they index it. Not at
        // decode: a job per head packs each tile once as it reads it, and packing first would triple the bytes moved.
        let keyTiles = (nk + keyTile - 1) / keyTile
        let packs =
            !plan.grouped
            && min(nq, rowsPerJob) >= Int(attnbound_fused_row_block(isa.rawValue, Int32(MemoryLayout<T>.size)))
        let packedCount = packs ? attnbound_fused_packed_k_count(nk, d) : 0
        let packed = UnsafeSendablePointer(UnsafeMutablePointer<T>.allocate(capacity: k.heads * packedCount))
        defer { packed.pointer.deallocate() }
        let flags = UnsafeSendablePointer(UnsafeMutablePointer<Int32>.allocate(capacity: jobs))
        flags.pointer.initialize(repeating: 0, count: jobs)
        defer { flags.pointer.deallocate() }
        let tileClasses = classes
        let lsePointer = UnsafeSendablePointer(UnsafeMutablePointer<T>.allocate(capacity: max(1, lse.count)))
        defer { lsePointer.pointer.deallocate() }
        let explicit = scoreModel.mask.explicit, bias = scoreModel.bias
        let maskStrides = explicit?.elementStrides ?? (0, 0, 0, 0), biasStrides = bias?.elementStrides ?? (0, 0, 0, 0)
        let softcap = scoreModel.softcap ?? 0
        PinnedAttention.with(q: q, k: k, v: v, out: &out) { p in
            let groups = packs ? min(keyTiles, 8) : 0
            Parallel.forEachJob(k.heads * groups, workers: max(1, min(workers, k.heads * groups))) { worker in
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
                    let split = job % splits, unit = job / splits
                    // Causal: the longest row blocks (the last) first, so the tail of the run is short jobs.
                    let h = plan.grouped ? unit * group : unit / qBlocks
                    let b = plan.grouped ? 0 : rightBound != nil ? qBlocks - 1 - unit % qBlocks : unit % qBlocks
                    let i0 = b * rowsPerJob, rows = plan.grouped ? jobRows : min(rowsPerJob, nq - i0)
                    let row = h * nq + i0, kv = h / group
                    var cj = attnbound_fused_job()
                    cj.q = UnsafeRawPointer(p.q + row * d)
                    cj.k = UnsafeRawPointer(p.k + kv * nk * d)
                    cj.v = UnsafeRawPointer(p.v + kv * nk * dv)
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
                    cj.k_packed = packs ? UnsafeRawPointer(packed.pointer + kv * packedCount) : nil
                    cj.causal_offset = i0 + shift + (rightBound ?? 0)
                    cj.causal_period = plan.grouped ? nq : 0
                    cj.in_place = plan.inPlace ? 1 : 0
                    cj.nonfinite = fusedCheck ? flags.pointer + job : nil
                    cj.scale = s
                    cj.causal = rightBound != nil ? 1 : 0
                    cj.isa = isa.rawValue
                    let (bb, hh) = (h / hpb, h % hpb)
                    if let left {
                        cj.left_bounded = 1
                        cj.left_offset = i0 + shift - min(left, nk + nq)  // L ≥ n_k + n_q is unbounded in effect
                    }
                    cj.softcap = softcap
                    if let slopes = model.alibiSlopes {
                        (cj.alibi, cj.alibi_diag) = (1, i0 + shift)
                        cj.alibi_slope = slopes[batch: bb, head: hh, row: 0, col: 0]
                    }
                    if partials == nil, let sigma = model.sink(batch: bb, head: hh) {
                        (cj.has_sink, cj.sink) = (1, sigma)
                    }
                    if wantLSE && partials == nil { cj.lse = UnsafeMutableRawPointer(lsePointer.pointer + row) }
                    tileClasses.withUnsafeBufferPointer { cb in
                        explicit.map { $0.values }.withUnsafeBytes(ifPresent: true) { mb in
                            bias.map { $0.values }.withUnsafeBytes(ifPresent: true) { bbuf in
                                if !cb.isEmpty { cj.tile_class = cb.baseAddress! + (h * qBlocks + b) * keyTileCount }
                                if let mb {
                                    let o = bb * maskStrides.0 + hh * maskStrides.1 + i0 * maskStrides.2
                                    cj.mask = mb.baseAddress!.assumingMemoryBound(to: UInt8.self) + o
                                    (cj.mask_row, cj.mask_col) = (maskStrides.2, maskStrides.3)
                                }
                                if let bbuf {
                                    let o = bb * biasStrides.0 + hh * biasStrides.1 + i0 * biasStrides.2
                                    cj.bias = bbuf.baseAddress!.assumingMemoryBound(to: Double.self) + o
                                    (cj.bias_row, cj.bias_col) = (biasStrides.2, biasStrides.3)
                                }
                                T.fusedAttention(&cj)
                            }
                        }
                    }
                }
            }
            if statistics != nil { return }
            partials?.merge(
                into: p.out, lse: wantLSE ? lsePointer.pointer : nil,
                sink: { row in model.sink(batch: row / nq / hpb, head: row / nq % hpb).map { T($0) } })
        }
        if fusedCheck, (0..<jobs).contains(where: { flags.pointer[$0] != 0 }) || !out.isFinite {
            // A non-finite score or output: name the input at fault (a finite overflow is a false alarm).
            for (p, name, t) in [(Parameter.k, "K", k), (.v, "V", v)] where !t.isFinite {
                throw AttnError.usage(p, "\(name) contains NaN or Inf")
            }
        }
        if statistics != nil { return (out, lse) }
        if wantLSE { for i in 0..<lse.count { lse[i] = lsePointer.pointer[i] } }
        try widenNonFiniteRows(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, out: &out, lse: &lse)  // §4
        return (out, lse)
    }

    /// Float32 kernels take the terms rounded to Float: a softcap, bias, slope·distance or sink beyond Float's
    /// range would become ±∞ (then NaN), so it is refused rather than computed wrong.
    static func requireRepresentable<T: KernelScalar>(_ m: ScoreModel, in _: T.Type, queries nq: Int, keys nk: Int)
        throws
    {
        let limit = Double(T.greatestFiniteMagnitude) / 4
        let dist = Double(nq + nk)
        let checks: [(Parameter, Double)] = [
            (.softcap, m.softcap ?? 0), (.bias, m.bias?.values.map(abs).max() ?? 0),
            (.alibi, (m.alibiSlopes?.values.map(abs).max() ?? 0) * dist), (.sinks, m.sinks?.values.map(abs).max() ?? 0),
        ]
        for (p, x) in checks where x > limit {
            throw AttnError.usage(
                p, "values up to \(x) exceed what a \(T.dtypeName) kernel represents (limit \(limit))")
        }
    }
}

extension Optional where Wrapped == [Bool] {
    /// The array's bytes (nil when absent), for handing a mask to C.
    func withUnsafeBytes<R>(ifPresent: Bool, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard let self else { return body(nil) }
        return self.withUnsafeBytes { body($0) }
    }
}

extension Optional where Wrapped == [Double] {
    /// The array's bytes (nil when absent), for handing a bias to C.
    func withUnsafeBytes<R>(ifPresent: Bool, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard let self else { return body(nil) }
        return self.withUnsafeBytes { body($0) }
    }
}
