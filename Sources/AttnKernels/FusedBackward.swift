import AttnCore
import CLapack
import Foundation

/// The backward pass in FlashAttention-2's order (Dao 2023, Algorithm 2), on the CPU: no n × n
/// matrix, P recomputed tile by tile from each row's statistics, threads over KV blocks.
///
/// 1. **Row statistics**: the fused forward kernel on one key range (`FastAttention.statistics`) gives each row's
///    max m̂_i, denominator l̂_i and unnormalised numerator N̂_i = Σ_j exp(x̂_ij − m̂_i)·v_j; then r̂_i = fl(1/l̂_i)
///    and D̂_i = fl(fl(dO_i·N̂_i)·r̂_i) (D = rowsum(dO ∘ O)). (m̂, l̂) is the log-sum-exp LSE = m̂ + ln l̂ kept as a pair.
/// 2. **Gradients** (threads over (KV head, group of key blocks)): for each key block of
///    `keyBlock` keys and each query block of every query head sharing the KV head,
///    P̂ = fl(exp(min(x̂, m̂) − m̂)·r̂), dV_blk += P̂ᵀ·dO_blk, dP̂ = dO_blk·V_blkᵀ,
///    dŜ = fl(P̂·fl(dP̂ − D̂)), dK_blk += dŜᵀ·Q_blk and dQ_g += dŜ·K_blk into the group's own
///    partial dQ (five gemms per tile pair). Then dK = fl(ŝ·dK_blk) and
///    dQ = fl(ŝ·Σ_g dQ_g), the partials added in group order.
///
/// Tile products are BLAS gemms (single-threaded inside jobs); the result does not depend on the
/// thread count (each job is one worker's, in a fixed order; the groups depend on the shape only).
/// Masks (`ScoreModel`: windows of either alignment, explicit masks): masked entries of P are exact
/// zeros, tiles outside every row's window are skipped, and a row that sees no key gives zero gradients.
///
/// Error bound: `BackwardErrorBound.fused` (Proofs/backward-error.md).
public enum FusedBackward {
    /// Query rows per tile of the gradient pass.
    public static let queryBlock = 128
    /// Keys per tile of the gradient pass.
    public static let keyBlock = 128

    /// The groups of key blocks of each KV head, each with its own partial dQ: at least 4 jobs, and at
    /// most 512 MiB of partials. Depends on the shape only (so the result does not depend on the thread count).
    /// Why 4 and not more: every group's partial dQ is a full copy of dQ, zeroed, faulted in and summed; at
    /// n = 4096 on one head, 16 groups cost 15% of the backward for parallelism 2 cores cannot use.
    public static func keyGroups(_ shape: AttentionShape, bytesPerScalar: Int) -> Int {
        let blocks = (shape.nk + keyBlock - 1) / keyBlock
        var g = min(blocks, max(1, 4 / max(1, shape.batch * shape.headsKV)))
        while g > 1 && g * shape.flatHeads * shape.nq * shape.d * bytesPerScalar > 1 << 29 { g /= 2 }
        return max(1, g)
    }

    /// - Parameters:
    ///   - dO: the upstream gradient, the output's shape.
    ///   - threads: workers (default: active processors); the result does not depend on it.
    /// - Throws: `AttnError.usage` on shape mismatch, NaN/Inf (`.dO` for the gradient), a score term
    ///   beyond the mask (its parameter).
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    public static func compute<T: KernelScalar>(
        _ problem: AttentionTensors<T>, dO: Tensor<T>, scale: Scale, scoreModel: ScoreModel = .plain,
        threads: Int? = nil
    ) throws -> AttentionGradients<T> {
        let shape = problem.shape
        try validateBackward(dO, shape: shape, q: problem.q, model: scoreModel)
        let mask = BackwardMask(scoreModel, shape)
        var dq = Tensor<T>(
            heads: problem.q.heads, rows: shape.nq, cols: shape.d, logicalRank: problem.q.logicalRank,
            batch: problem.q.batch, headsPerBatch: problem.q.headsPerBatch)
        var dk = Tensor<T>(
            heads: problem.k.heads, rows: shape.nk, cols: shape.d, logicalRank: problem.k.logicalRank,
            batch: problem.k.batch, headsPerBatch: problem.k.headsPerBatch)
        var dv = Tensor<T>(
            heads: problem.v.heads, rows: shape.nk, cols: shape.dv, logicalRank: problem.v.logicalRank,
            batch: problem.v.batch, headsPerBatch: problem.v.headsPerBatch)
        if shape.nq == 0 || shape.nk == 0 { return AttentionGradients(dq: dq, dk: dk, dv: dv) }
        let workers = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let s = T(scale.value(d: shape.d))
        let rowCount = shape.flatHeads * shape.nq
        var stats = [T](repeating: 0, count: 3 * rowCount)  // m̂, r̂, D̂ per (flat head, row)
        let groups = keyGroups(shape, bytesPerScalar: MemoryLayout<T>.size)
        var partial = [T](repeating: 0, count: groups * rowCount * shape.d)
        try stats.withUnsafeMutableBufferPointer { sb in
            try dO.storage.withUnsafeBufferPointer { gb in
                try rowStatistics(
                    problem, dO: gb.baseAddress!, scale: scale, scoreModel: scoreModel, workers: workers,
                    into: sb.baseAddress!)
            }
        }
        BLASThreads.withSingleThreadedBLAS {
            problem.q.storage.withUnsafeBufferPointer { qb in
                problem.k.storage.withUnsafeBufferPointer { kb in
                    problem.v.storage.withUnsafeBufferPointer { vb in
                        dO.storage.withUnsafeBufferPointer { gb in
                            stats.withUnsafeMutableBufferPointer { sb in
                                let p = Pointers(
                                    q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, dO: gb.baseAddress!,
                                    stats: sb.baseAddress!)
                                partial.withUnsafeMutableBufferPointer { pb in
                                    dk.withUnsafeMutableBufferPointer { kOut in
                                        dv.withUnsafeMutableBufferPointer { vOut in
                                            let out = Outputs(
                                                dqPartial: pb.baseAddress!, dk: kOut.baseAddress!,
                                                dv: vOut.baseAddress!)
                                            gradients(
                                                p, out, shape: shape, scale: s, mask: mask, groups: groups,
                                                workers: workers)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // dQ = fl(ŝ·Σ_g dQ_g), the partials added in group order (one partial at a time over all of dQ: the
        // same sums as entry by entry, in loops that vectorise).
        let n = rowCount * shape.d
        dq.withUnsafeMutableBufferPointer { out in
            partial.withUnsafeBufferPointer { pb in
                for x in 0..<n { out[x] = pb[x] }
                for g in 1..<max(groups, 1) {
                    let pg = pb.baseAddress! + g * n
                    for x in 0..<n { out[x] += pg[x] }
                }
                for x in 0..<n { out[x] = s * out[x] }
            }
        }
        return AttentionGradients(dq: dq, dk: dk, dv: dv)
    }

    struct Pointers<T>: @unchecked Sendable {  // read-only inputs, and stats written per disjoint row
        let q: UnsafePointer<T>, k: UnsafePointer<T>, v: UnsafePointer<T>, dO: UnsafePointer<T>
        let stats: UnsafeMutablePointer<T>
    }

    struct Outputs<T>: @unchecked Sendable {  // each job writes its own key rows and its own partial dQ
        let dqPartial: UnsafeMutablePointer<T>, dk: UnsafeMutablePointer<T>, dv: UnsafeMutablePointer<T>
    }

    /// Pass 1: m̂_i, r̂_i = fl(1/l̂_i) and D̂_i = fl(fl(dO_i·N̂_i)·r̂_i) for every (flat head, row), from the fused
    /// forward kernel's unnormalised rows (m̂, l̂, N̂); (−∞, 0, 0) for a row without keys.
    static func rowStatistics<T: KernelScalar>(
        _ problem: AttentionTensors<T>, dO: UnsafePointer<T>, scale: Scale, scoreModel: ScoreModel, workers: Int,
        into stats: UnsafeMutablePointer<T>
    ) throws {
        let shape = problem.shape, rowCount = shape.flatHeads * shape.nq, dv = shape.dv
        let forward = PartialSoftmax<T>(splits: 1, rows: rowCount, valueCols: dv)
        try FastAttention.statistics(
            q: problem.q, k: problem.k, v: problem.v, scale: scale, scoreModel: scoreModel, threads: workers,
            into: forward)
        let (m, l, n) = (forward.rowMax.pointer, forward.rowSum.pointer, forward.output.pointer)
        for row in 0..<rowCount {
            guard l[row] > 0 else {
                (stats[row], stats[rowCount + row], stats[2 * rowCount + row]) = (-.infinity, 0, 0)
                continue
            }
            let rInv = 1 / l[row]
            let e = dv == 0 ? 0 : dot(dO + row * dv, n + row * dv, count: dv)
            (stats[row], stats[rowCount + row], stats[2 * rowCount + row]) = (m[row], rInv, e * rInv)
        }
    }

    /// Pass 2: the five gemms per (key block, query block) of each job's key blocks.
    static func gradients<T: KernelScalar>(
        _ p: Pointers<T>, _ out: Outputs<T>, shape: AttentionShape, scale s: T, mask: BackwardMask, groups: Int,
        workers: Int
    ) {
        let (nq, nk, d, dv) = (shape.nq, shape.nk, shape.d, shape.dv)
        let (br, bc) = (queryBlock, keyBlock)
        let keyBlocks = (nk + bc - 1) / bc, queryBlocks = (nq + br - 1) / br
        let rowCount = shape.flatHeads * nq
        let kvHeads = shape.batch * shape.headsKV
        Parallel.forEachJob(kvHeads * groups, workers: workers) { worker in
            let x = UnsafeMutablePointer<T>.allocate(capacity: br * bc)
            let dp = UnsafeMutablePointer<T>.allocate(capacity: br * bc)
            let dkBlock = UnsafeMutablePointer<T>.allocate(capacity: bc * d)
            defer { x.deallocate(); dp.deallocate(); dkBlock.deallocate() }
            while let job = worker.next() {
                let h = job / groups, g = job % groups
                for kb in g * keyBlocks / groups..<(g + 1) * keyBlocks / groups {
                    let j0 = kb * bc, keys = min(bc, nk - j0)
                    let kBlk = p.k + (h * nk + j0) * d, vBlk = p.v + (h * nk + j0) * dv
                    let dvBlk = out.dv + (h * nk + j0) * dv
                    dkBlock.initialize(repeating: 0, count: keys * d)
                    for f in h * shape.group..<(h + 1) * shape.group {
                        for qb in 0..<queryBlocks {
                            let i0 = qb * br, rows = min(br, nq - i0)
                            // A query block whose rows' windows miss this key block contributes nothing.
                            let (lo, hi) = mask.union(rows: i0..<i0 + rows)
                            if hi <= j0 || lo >= j0 + keys { continue }
                            let qBlk = p.q + (f * nq + i0) * d, gBlk = p.dO + (f * nq + i0) * dv
                            T.gemm(
                                transA: false, transB: true, m: rows, n: keys, k: d, alpha: s, a: qBlk, lda: d,
                                b: kBlk, ldb: d, beta: 0, c: x, ldc: bc)
                            T.gemm(
                                transA: false, transB: true, m: rows, n: keys, k: dv, alpha: 1, a: gBlk, lda: dv,
                                b: vBlk, ldb: dv, beta: 0, c: dp, ldc: bc)
                            for r in 0..<rows {
                                let row = f * nq + i0 + r
                                let m = p.stats[row], rInv = p.stats[rowCount + row], dRow = p.stats[2 * rowCount + row]
                                let w = mask.window(i0 + r)
                                let a = min(keys, max(0, w.lowerBound - j0)), b = max(a, min(keys, w.upperBound - j0))
                                let xr = x + r * bc, dpr = dp + r * bc
                                for c in 0..<a { xr[c] = 0; dpr[c] = 0 }
                                for c in b..<keys { xr[c] = 0; dpr[c] = 0 }
                                guard b > a && m > -.infinity else {
                                    for c in a..<b { xr[c] = 0; dpr[c] = 0 }
                                    continue
                                }
                                for c in a..<b where xr[c] > m { xr[c] = m }  // recomputed scores may exceed m̂
                                if mask.hasExplicit {
                                    for c in a..<b where !mask.visible(head: f, row: i0 + r, key: j0 + c) {
                                        xr[c] = -.infinity
                                    }
                                }
                                _ = T.expShiftedSum(xr + a, count: b - a, shift: m)
                                for c in a..<b {
                                    let pij = xr[c] * rInv
                                    xr[c] = pij
                                    dpr[c] = pij * (dpr[c] - dRow)
                                }
                            }
                            // dV_blk += P̂ᵀ·dO_blk;  dK_blk += dŜᵀ·Q_blk;  dQ_g += dŜ·K_blk.
                            T.gemm(
                                transA: true, transB: false, m: keys, n: dv, k: rows, alpha: 1, a: x, lda: bc, b: gBlk,
                                ldb: dv, beta: 1, c: dvBlk, ldc: dv)
                            T.gemm(
                                transA: true, transB: false, m: keys, n: d, k: rows, alpha: 1, a: dp, lda: bc, b: qBlk,
                                ldb: d, beta: 1, c: dkBlock, ldc: d)
                            T.gemm(
                                transA: false, transB: false, m: rows, n: d, k: keys, alpha: 1, a: dp, lda: bc,
                                b: kBlk, ldb: d, beta: 1, c: out.dqPartial + (g * rowCount + f * nq + i0) * d, ldc: d)
                        }
                    }
                    let dkOut = out.dk + (h * nk + j0) * d
                    for c in 0..<keys * d { dkOut[c] = s * dkBlock[c] }
                }
            }
        }
    }

    /// Σ a_i·b_i by BLAS (any summation order; the bound allows it).
    @inline(__always) static func dot<T: KernelScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, count: Int) -> T {
        if T.self == Float.self {
            return T(
                Double(
                    cblas_sdot(
                        blasint(count), UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), 1,
                        UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), 1)))
        }
        return T(
            cblas_ddot(
                blasint(count), UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), 1,
                UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), 1))
    }
}
