import AttnCore
import AttnKernels
import Foundation

/// What one simulated device did.
public struct DbspRankReport: Sendable, Equatable {
    /// Ulysses group k and ring position i; the device index is k·R + i.
    public var ulyssesIndex: Int, ringIndex: Int
    /// Dense blocks computed at each ring step t (against KV chunk (i+t) mod R).
    public var tilesPerStep: [Int]
    public var tiles: Int { tilesPerStep.reduce(0, +) }
    /// Bytes of K and V received over the ring (R − 1 chunks for its heads).
    public var ringBytes: Int
    /// Bytes this device sends in the Ulysses all-to-alls (Q, K, V in; O out).
    public var allToAllBytes: Int
}

/// Executes a db-SP plan with simulated devices (one `Parallel` job per device).
///
/// Exactness (Proofs/dbsp-exactness.md): each device computes its (head,
/// q-block) rows by the same tile engine as `BlockSparseAttention` (`TileEngine`) with
/// `blockSize × blockSize` tiles and ascending k-tile order, visiting its
/// k-blocks in ascending *original* index. Those are the same kernel calls on
/// the same numbers in the same order, so after un-permuting the output is
/// bitwise equal to the unpartitioned block-sparse result. (A real ring merges
/// partial results by log-sum-exp as chunks arrive; that is exact in real
/// arithmetic but not bitwise, so the simulation counts ring steps and bytes
/// while absorbing tiles in canonical order.)
public enum DbspExecution {
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func run<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale, mask: TileMask,
        blockSize: Int, plan: DbspPlan, threads: Int? = nil
    )
        throws -> (output: Tensor<T>, ranks: [DbspRankReport])
    {
        let tiles = TileSizes(queryTile: blockSize, keyTile: blockSize)
        try BlockSparseAttention.validate(q: q, k: k, v: v, mask: mask, tiles: tiles)
        try DbspPlanner.validate(mask: mask, ulysses: plan.ulysses, ring: plan.ring)
        guard plan.headOrder.sorted() == Array(0..<mask.heads), plan.rowOrder.sorted() == Array(0..<mask.qTiles),
            plan.colOrder.sorted() == Array(0..<mask.kTiles)
        else {
            throw AttnError.usage("db-SP plan: orders are not permutations of the mask's heads and blocks")
        }
        let (H, nq, nk, d, dv) = (q.heads, q.rows, k.rows, q.cols, v.cols)
        let (U, R) = (plan.ulysses, plan.ring)
        // Permute: heads by headOrder, blocks by rowOrder / colOrder.
        let qp = permute(q, heads: plan.headOrder, blocks: plan.rowOrder, blockSize: blockSize)
        let kp = permute(k, heads: plan.headOrder, blocks: plan.colOrder, blockSize: blockSize)
        let vp = permute(v, heads: plan.headOrder, blocks: plan.colOrder, blockSize: blockSize)
        let rowStart = starts(plan.rowOrder, n: nq, blockSize: blockSize)
        let colStart = starts(plan.colOrder, n: nk, blockSize: blockSize)
        let colPos = DbspPlan.positions(plan.colOrder)
        let colChunk = (0..<mask.kTiles).map { b in
            (0..<R).first { DbspPlan.chunk($0, of: mask.kTiles, parts: R).contains(b) }!
        }
        var op = Tensor<T>(heads: H, rows: nq, cols: dv)
        var reports = [DbspRankReport](
            repeating: DbspRankReport(
                ulyssesIndex: 0, ringIndex: 0, tilesPerStep: [],
                ringBytes: 0, allToAllBytes: 0), count: U * R)
        let s = scale.value(d: d), hpg = H / U, elem = MemoryLayout<T>.size
        PinnedAttention.with(q: qp, k: kp, v: vp, out: &op) { pin in
            reports.withUnsafeMutableBufferPointer { rb in
                let rs = UnsafeSendablePointer(rb.baseAddress!)
                Parallel.forEachJob(U * R, workers: threads ?? ProcessInfo.processInfo.activeProcessorCount) {
                    worker in
                    let engine = TileEngine<T>(maxRows: blockSize, d: d, valueCols: dv, scale: s)
                    while let device = worker.next() {
                        let g = device / R, i = device % R
                        var perStep = [Int](repeating: 0, count: R)
                        var recvRows = 0
                        for c in 0..<R where c != i {
                            for b in DbspPlan.chunk(c, of: mask.kTiles, parts: R) {
                                recvRows += blockRows(plan.colOrder[b], nk, blockSize)
                            }
                        }
                        for p in (g * hpg)..<((g + 1) * hpg) {
                            let h = plan.headOrder[p]
                            for a in DbspPlan.chunk(i, of: mask.qTiles, parts: R) {
                                let qa = plan.rowOrder[a], rows = blockRows(qa, nq, blockSize)
                                engine.begin(
                                    q: pin.q + (p * nq + rowStart[a]) * d, rows: rows, k: pin.k + p * nk * d,
                                    v: pin.v + p * nk * dv, out: pin.out + (p * nq + rowStart[a]) * dv)
                                for kb in 0..<mask.kTiles where mask[h, qa, kb] {
                                    let b = colPos[kb], cols = blockRows(kb, nk, blockSize)
                                    engine.attend(keys: colStart[b]..<colStart[b] + cols)
                                    perStep[(colChunk[b] - i + R) % R] += 1
                                }
                                engine.finish()
                            }
                        }
                        // Each device starts with n/N tokens of all heads; the all-to-alls swap (U−1)/U of them.
                        let shareQ = nq * H * d / (U * R), shareKV = nk * H * (d + dv) / (U * R),
                            shareO = nq * H * dv / (U * R)
                        rs.pointer[device] = DbspRankReport(
                            ulyssesIndex: g, ringIndex: i, tilesPerStep: perStep,
                            ringBytes: recvRows * hpg * (d + dv) * elem,
                            allToAllBytes: U == 1 ? 0 : (shareQ + shareKV + shareO) * (U - 1) / U * elem)
                    }
                }
            }
        }
        // Un-permute.
        var out = Tensor<T>(heads: H, rows: nq, cols: dv, logicalRank: q.logicalRank)
        for p in 0..<H {
            for a in 0..<mask.qTiles {
                let qa = plan.rowOrder[a], rows = blockRows(qa, nq, blockSize)
                for r in 0..<rows {
                    let src = (p * nq + rowStart[a] + r) * dv, dst = (plan.headOrder[p] * nq + qa * blockSize + r) * dv
                    for c in 0..<dv { out[flat: dst + c] = op.storage[src + c] }
                }
            }
        }
        return (out, reports)
    }

    /// Rows of block `b` of a sequence of n rows.
    @inline(__always) static func blockRows(_ b: Int, _ n: Int, _ size: Int) -> Int { min(size, n - b * size) }

    /// Row offset of each permuted position.
    static func starts(_ order: [Int], n: Int, blockSize: Int) -> [Int] {
        var s = [Int](repeating: 0, count: order.count), acc = 0
        for (a, o) in order.enumerated() { s[a] = acc; acc += blockRows(o, n, blockSize) }
        return s
    }

    /// Heads reordered by `heads`, row blocks by `blocks` (position → original).
    static func permute<T: AttnScalar>(_ t: Tensor<T>, heads: [Int], blocks: [Int], blockSize: Int) -> Tensor<T> {
        var out = [T](); out.reserveCapacity(t.count)
        for h in heads {
            for b in blocks {
                let start = (h * t.rows + b * blockSize) * t.cols
                out.append(contentsOf: t.storage[start..<(start + blockRows(b, t.rows, blockSize) * t.cols)])
            }
        }
        return Tensor(heads: t.heads, rows: t.rows, cols: t.cols, storage: out)
    }
}
