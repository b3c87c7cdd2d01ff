import AttnCore
import Foundation

/// Partial softmaxes over key ranges (split-K) and their exact merge.
///
/// Range p of row i holds m_p (its max score), l_p = Σ exp(x_j − m_p) and
/// O_p = Σ exp(x_j − m_p)·v_j. With M = max_p m_p the merge computes
/// O = Σ_p O_p·e^{m_p−M} / Σ_p l_p·e^{m_p−M}: one more online-softmax
/// rescale per range, which the forward-error bound counts as an extra tile
/// (Proofs/online-softmax-error.md, "Split-K"; test `FastVsReferenceTests.splitK`).
final class PartialSoftmax<T: KernelScalar>: @unchecked Sendable {
    // Written by disjoint jobs (each its own (split, row) range), read by `merge` after all jobs end.
    let splits: Int, rows: Int, valueCols: Int
    let output: UnsafeSendablePointer<T>, rowMax: UnsafeSendablePointer<T>, rowSum: UnsafeSendablePointer<T>

    init(splits: Int, rows: Int, valueCols: Int) {
        self.splits = splits
        self.rows = rows
        self.valueCols = valueCols
        output = UnsafeSendablePointer(.allocate(capacity: splits * rows * valueCols))
        rowMax = UnsafeSendablePointer(.allocate(capacity: splits * rows))
        rowSum = UnsafeSendablePointer(.allocate(capacity: splits * rows))
    }

    deinit {
        output.pointer.deallocate()
        rowMax.pointer.deallocate()
        rowSum.pointer.deallocate()
    }

    /// Writes the normalised rows (rows × valueCols) into `out`; with `sink(row)`, exp(σ − M) joins each
    /// denominator (M the max over the ranges and σ); `lse`, when given, receives M + ln(denominator).
    func merge(into out: UnsafeMutablePointer<T>, lse: UnsafeMutablePointer<T>? = nil, sink: (Int) -> T? = { _ in nil })
    {
        let (m, l, o, dv) = (rowMax.pointer, rowSum.pointer, output.pointer, valueCols)
        for i in 0..<rows {
            let sigma = sink(i)
            var big = sigma ?? -T.infinity
            for p in 0..<splits { big = max(big, m[p * rows + i]) }
            let orow = out + i * dv
            for c in 0..<dv { orow[c] = 0 }
            var sum: T = 0
            for p in 0..<splits where m[p * rows + i] != -.infinity {
                // A range with no visible key (causal) has m = −∞, l = 0, O = 0: skipped.
                var f = m[p * rows + i] - big
                _ = T.expShiftedSum(&f, count: 1, shift: 0)
                sum += l[p * rows + i] * f
                let prow = o + (p * rows + i) * dv
                for c in 0..<dv { orow[c] += prow[c] * f }
            }
            if let sigma {
                var f = sigma - big
                _ = T.expShiftedSum(&f, count: 1, shift: 0)
                sum += f
            }
            if sum > 0 { for c in 0..<dv { orow[c] /= sum } }  // no visible key in any range: the row is 0
            lse?[i] = sum > 0 ? big + T(log(Double(sum))) : -.infinity
        }
    }
}
