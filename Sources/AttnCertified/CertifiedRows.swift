import AttnCore
import Dispatch
import Foundation
import Synchronization

extension CertifiedAttention {
    /// GMP/MPFR enclosures of selected output rows only (the tiered verify's
    /// second tier). Batch and GQA follow `AttentionShape`: flat query head f
    /// uses flat KV head `shape.kvHead(forQueryHead: f)`.
    ///
    /// **Guarantee**: as `compute` (Proofs/certified-enclosure.md, certified-score-model.md,
    /// certified-lse.md): for each requested (head, row) and column c, `lo[c] ≤ O_c ≤ hi[c]` under
    /// the score model `model`, and `lse.lo ≤ LSE ≤ lse.hi` (natural log). A row with no visible key
    /// is output 0 and LSE −∞ exactly (σ_h with a sink).
    /// - Returns: per request, in order, the row's lower and upper bounds (d_v each) and its LSE enclosure.
    /// - Throws: `AttnError.usage` (bad shapes, precision), never for valid requests.
    package static func encloseRows(
        q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, scale: Scale,
        scoreModel: ScoreModel, precision: Int, rows: [(head: Int, row: Int)],
        threads: Int? = nil,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) throws
        -> [CertifiedRow]
    {
        let shape = try AttentionShape(q: q, k: k, v: v, checkFinite: false)
        let model = try JudgedScores(scoreModel, shape: shape)
        guard precisionRange.contains(precision) else {
            throw AttnError.usage("precision \(precision) bits is outside \(precisionRange)")
        }
        if rows.isEmpty { return [] }
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
        let terms =
            model.hasTerms
            ? try TermPlan(
                model: model, scale: scale, d: d, workingPrecision: plan.workingPrecision,
                magnitudeLog2: scoreMagnitudeLog2(q: q, k: k, d: d)
                    + log2(max(scaleEnclosure.upper.double(rounding: .up), 1))) : nil
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        let results = Mutex<[Int: CertifiedRow]>([:])
        let workers =
            MPFRLibrary.isThreadSafe
            ? max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, rows.count)) : 1
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let worker = RowWorker(
                plan: plan, scale: scaleEnclosure, keys: nk, needsBigDots: bigDots, terms: terms)
            var lo = [Double](repeating: 0, count: dv), hi = lo, visible: [Int] = []
            var lse = (lo: 0.0, hi: 0.0)
            while true {
                let job = next.add(1, ordering: .relaxed).oldValue
                if job >= rows.count { break }
                let (f, i) = rows[job]
                model.visibleKeys(head: f, row: i, into: &visible)
                _ = worker.row(i, head: f, of: heads[f]!, visible: visible, lo: &lo, hi: &hi, lse: &lse)
                let row = CertifiedRow(lo: lo, hi: hi, lse: lse, masked: visible.isEmpty)
                results.withLock { $0[job] = row }
                let finished = done.add(1, ordering: .relaxed).newValue
                progress?(finished, rows.count)
            }
        }
        return results.withLock { r in (0..<rows.count).map { r[$0]! } }
    }
}

/// One certified row: its output enclosure, its LSE enclosure (natural log) and whether it has
/// no visible key.
package struct CertifiedRow: Sendable {
    package var lo: [Double], hi: [Double]
    package var lse: (lo: Double, hi: Double)
    package var masked: Bool
}

/// An upper bound on log₂ max |⟨q_i, k_j⟩| (log₂(d·max|q|·max|k|) + 1, formed in the log domain so
/// that it never overflows); 0 for an all-zero Q or K.
func scoreMagnitudeLog2<T: AttnScalar>(q: Tensor<T>, k: Tensor<T>, d: Int) -> Double {
    let mq = q.storage.reduce(0.0) { max($0, abs(Double($1))) }, mk = k.storage.reduce(0.0) { max($0, abs(Double($1))) }
    guard mq > 0, mk > 0 else { return 0 }
    return log2(mq) + log2(mk) + log2(Double(d)) + 1
}
