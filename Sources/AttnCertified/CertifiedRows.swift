import AttnCore
import Dispatch
import Foundation
import Synchronization

extension CertifiedAttention {
    /// GMP/MPFR enclosures of selected output rows only (the tiered verify's
    /// second tier). Batch and GQA follow `AttentionShape`: flat query head f
    /// uses flat KV head `shape.kvHead(forQueryHead: f)`.
    ///
    /// **Guarantee**: as `compute` (Proofs/certified-enclosure.md): for each
    /// requested (head, row) and column c, `lo[c] ≤ O_c ≤ hi[c]`.
    /// - Returns: per request, in order, the row's lower and upper bounds (d_v each).
    /// - Throws: `AttnError.usage` (bad shapes, precision), never for valid requests.
    package static func encloseRows(
        q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, scale: Scale,
        scoreModel: ScoreModel, precision: Int, rows: [(head: Int, row: Int)],
        threads: Int? = nil,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) throws
        -> [(lo: [Double], hi: [Double])]
    {
        let shape = try AttentionShape(q: q, k: k, v: v, checkFinite: false)
        guard precisionRange.contains(precision) else {
            throw AttnError.usage("precision \(precision) bits is outside \(precisionRange)")
        }
        try requireEnclosed(scoreModel, batch: shape.batch, heads: shape.headsQ, queries: shape.nq, keys: shape.nk)
        if rows.isEmpty { return [] }
        let mask = scoreModel.mask
        let plan = EnclosurePlan(precision: precision)
        let scaleEnclosure = try ScaleEnclosure(scale, d: shape.d, precision: plan.workingPrecision)
        let (nq, nk, d, dv) = (shape.nq, shape.nk, shape.d, shape.dv)
        var prepared: [Int: PreparedHead] = [:]
        for f in Set(rows.map(\.head)) {
            let g = shape.kvHead(forQueryHead: f)
            prepared[f] = PreparedHead(
                q: IntegerMatrix(rows: nq, cols: d, values: Array(q.storage[f * nq * d..<(f + 1) * nq * d])),
                k: IntegerMatrix(rows: nk, cols: d, values: Array(k.storage[g * nk * d..<(g + 1) * nk * d])),
                v: IntegerMatrix(rows: nk, cols: dv, values: Array(v.storage[g * nk * dv..<(g + 1) * nk * dv])))
        }
        let heads = prepared
        let bigDots = heads.values.contains { !$0.dotsFitInt128 }
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        let results = Mutex<[Int: (lo: [Double], hi: [Double])]>([:])
        let workers =
            MPFRLibrary.isThreadSafe
            ? max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, rows.count)) : 1
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let worker = RowWorker(plan: plan, scale: scaleEnclosure, keys: nk, needsBigDots: bigDots)
            var lo = [Double](repeating: 0, count: dv), hi = lo
            while true {
                let job = next.add(1, ordering: .relaxed).oldValue
                if job >= rows.count { break }
                let (f, i) = rows[job]
                let last = mask.visibleKeys(row: i, queries: nq, keys: nk).upperBound - 1
                _ = worker.row(i, of: heads[f]!, lastKey: min(last, nk - 1), lo: &lo, hi: &hi)
                results.withLock { $0[job] = (lo, hi) }
                let finished = done.add(1, ordering: .relaxed).newValue
                progress?(finished, rows.count)
            }
        }
        return results.withLock { r in (0..<rows.count).map { r[$0]! } }
    }
}
