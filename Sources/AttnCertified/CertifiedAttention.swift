import AttnCore
import Dispatch
import Foundation
import Synchronization

/// Certified enclosures of every entry of attention O = D⁻¹AV, A = exp(s·QKᵀ).
public struct CertifiedAttentionOutput: Sendable {
    /// lower[h,i,c] ≤ O_hic, rounded down from the p-bit enclosure.
    public let lower: Tensor<Double>
    /// O_hic ≤ upper[h,i,c], rounded up from the p-bit enclosure.
    public let upper: Tensor<Double>
    /// An upper bound on max over entries of (hi − lo) of the p-bit enclosures
    /// (before rounding to Double), so it shows the precision actually reached.
    public let maxWidth: Double
    /// The precision p (bits) of the enclosures.
    public let precision: Int
}

/// How the certified reference evaluates exp. Both are certified (Proofs/certified-enclosure.md);
/// they differ in speed and by at most a unit or two of 2^-(p+8) per weight.
public enum CertifiedExpMethod: String, Sendable, CaseIterable {
    /// Tabulated exp of 8-bit argument chunks, multiplied in fixed point with GMP's mpn (fast).
    case tables
    /// One MPFR exp per score, directed rounding (the plain way; the cross-check).
    case mpfr
}

/// The certified reference: exact inputs, exact integer scores, MPFR exp in
/// directed rounding, integer accumulation and outward division.
///
/// **Guarantee** (Proofs/certified-enclosure.md): for every head h, query
/// row i and value column c, `lower[h,i,c] ≤ O_hic ≤ upper[h,i,c]`, where
/// O is the exact real attention of the inputs' exact values (Float32/64
/// inputs are dyadic rationals) with the exact scale (`paper` = 1/d, a
/// decimal = its exact rational, `standard` = the real 1/√d).
///
/// **Width**: each p-bit enclosure is at most (4·n_k·2⁻⁸ + 8)·2^-p·max|V|
/// wide, so it shrinks as p grows (< 2⁻²⁴⁷·max|V| at 256 bits for
/// n_k ≤ 2¹⁴). Any score magnitude works: scores enter exp only after the
/// exact row max is subtracted.
///
/// **Causal**: bottom-right aligned as everywhere in attnbound: row i of n_q
/// sees key j of n_k iff j ≤ i + n_k − n_q.
public enum CertifiedAttention {
    /// Precision range accepted (bits).
    public static let precisionRange = 16...8192
    /// The largest heads·n_q·n_k accepted (each score costs one certified exp, ~0.5 µs).
    public static let maxScores = 1 << 26

    /// - Parameters:
    ///   - precision: p, bits of the output enclosures (≥ 16).
    ///   - expMethod: `.tables` (default, fast) or `.mpfr` (one MPFR exp per score); both certified.
    ///   - progress: called now and then (from worker threads, serialised) with rows done / total.
    ///   - threads: workers (default: active processors; 1 if MPFR is not thread-safe).
    ///     The result does not depend on it.
    ///   - scoreModel: what attention computes (every term is enclosed; Proofs/certified-score-model.md).
    ///     A row with no visible key is output 0 exactly (PyTorch's `_safe_softmax`).
    /// - Throws: `AttnError.usage` (shape mismatch, NaN/Inf, bad precision, a model term whose shape
    ///   does not broadcast), `AttnError.infeasible` (more than `maxScores` scores).
    public static func compute<T: AttnScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        scoreModel: ScoreModel = .plain, precision: Int = 256,
        threads: Int? = nil,
        expMethod: CertifiedExpMethod = .tables,
        progress: (@Sendable (_ rowsDone: Int, _ rowsTotal: Int) -> Void)? = nil
    )
        throws -> CertifiedAttentionOutput
    {
        try validateAttentionShapes(q: q, k: k, v: v)
        guard precisionRange.contains(precision) else {
            throw AttnError.usage(
                .precision, "\(precision) bits is outside \(precisionRange.lowerBound)...\(precisionRange.upperBound)")
        }
        let (scoreCount, o1) = q.heads.multipliedReportingOverflow(by: q.rows)
        let (scores, o2) = scoreCount.multipliedReportingOverflow(by: k.rows)
        guard !o1, !o2, scores <= maxScores else {
            throw AttnError.infeasible(
                "certified attention: heads·n_q·n_k = \(q.heads)·\(q.rows)·\(k.rows) exceeds the limit \(maxScores)")
        }
        var planned = EnclosurePlan(precision: precision)
        planned.method = expMethod
        let plan = planned
        let scaleEnclosure = try ScaleEnclosure(scale, d: q.cols, precision: plan.workingPrecision)
        let (heads, nq, nk, dv) = (q.heads, q.rows, k.rows, v.cols)
        let shape = try AttentionShape(q: q, k: k, v: v, checkFinite: false)
        let judged = try JudgedScores(scoreModel, shape: shape)
        let terms =
            judged.hasTerms
            ? try TermPlan(
                model: judged, scale: scale, d: q.cols, workingPrecision: plan.workingPrecision,
                magnitudeLog2: scoreMagnitudeLog2(q: q, k: k, d: q.cols)
                    + log2(max(scaleEnclosure.upper.double(rounding: .up), 1))) : nil
        let prepared: [PreparedHead] = (0..<heads).map { h in
            PreparedHead(
                q: IntegerMatrix(rows: nq, cols: q.cols, values: q.head(h).storage.map(Double.init)),
                k: IntegerMatrix(rows: nk, cols: k.cols, values: k.head(h).storage.map(Double.init)),
                v: IntegerMatrix(rows: nk, cols: dv, values: v.head(h).storage.map(Double.init)))
        }

        // Jobs are blocks of rows of one head; each worker owns its MPFR/GMP scratch.
        let block = 8
        let blocksPerHead = (nq + block - 1) / block
        let jobs = heads * blocksPerHead
        let wanted = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let workers = MPFRLibrary.isThreadSafe ? max(1, min(wanted, jobs)) : 1
        let next = Atomic<Int>(0)
        let rowsDone = Mutex<Int>(0)
        let totalRows = heads * nq
        let results = Mutex<[(job: Int, lo: [Double], hi: [Double], width: Double)]>([])
        DispatchQueue.concurrentPerform(iterations: max(workers, 1)) { _ in
            let worker = RowWorker(
                plan: plan, scale: scaleEnclosure, keys: nk,
                needsBigDots: prepared.contains { !$0.dotsFitInt128 }, terms: terms)
            var mine: [(job: Int, lo: [Double], hi: [Double], width: Double)] = []
            var rowLo = [Double](repeating: 0, count: dv), rowHi = rowLo, lse = (lo: 0.0, hi: 0.0)
            var visible: [Int] = []
            while true {
                let job = next.add(1, ordering: .relaxed).oldValue
                if job >= jobs { break }
                let h = job / blocksPerHead, i0 = (job % blocksPerHead) * block
                var lo: [Double] = [], hi: [Double] = [], width = 0.0
                for i in i0..<min(i0 + block, nq) {
                    judged.visibleKeys(head: h, row: i, into: &visible)
                    width = max(
                        width,
                        worker.row(
                            i, head: h, of: prepared[h], visible: visible, lo: &rowLo, hi: &rowHi, lse: &lse))
                    lo += rowLo
                    hi += rowHi
                }
                mine.append((job, lo, hi, width))
                if let progress {
                    rowsDone.withLock { done in
                        done += min(i0 + block, nq) - i0
                        progress(done, totalRows)
                    }
                }
            }
            results.withLock { $0 += mine }
        }

        var lower = Tensor<Double>(heads: heads, rows: nq, cols: dv, logicalRank: q.logicalRank)
        var upper = lower
        var widest = 0.0
        results.withLock { all in
            for r in all {
                let h = r.job / blocksPerHead, i0 = (r.job % blocksPerHead) * block
                let start = lower.offset(head: h, row: i0)
                for (o, x) in r.lo.enumerated() { lower[flat: start + o] = x }
                for (o, x) in r.hi.enumerated() { upper[flat: start + o] = x }
                widest = max(widest, r.width)
            }
        }
        return CertifiedAttentionOutput(lower: lower, upper: upper, maxWidth: widest, precision: precision)
    }
}
