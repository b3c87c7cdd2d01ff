import AttnCore

/// The verdict on a candidate attention output computed anywhere.
public struct VerificationReport: Sendable, Equatable {
    /// A certified upper bound on max over entries of |candidate − O|
    /// (+∞ if the candidate holds NaN or ±∞).
    public let maxErrorBound: Double
    /// The entry where that bound is attained (first in row-major order).
    public let head: Int
    public let row: Int
    public let col: Int
    /// The widest p-bit enclosure used (upper bound).
    public let maxWidth: Double
    public let precision: Int

    /// True when the certified bound is at most `tolerance`.
    public func passes(tolerance: Double) -> Bool { maxErrorBound <= tolerance }
}

extension CertifiedAttentionOutput {
    /// Certifies `candidate` against the enclosures.
    ///
    /// For each entry, O ∈ [lo, hi], so |c − O| ≤ max(c − lo, hi − c); each
    /// difference is computed in Double and moved up one ulp (round-to-nearest
    /// is within half an ulp), so the reported bound is ≥ the true error.
    ///
    /// - Throws: `AttnError.usage` if the candidate's shape differs from the output's.
    public func errorBound<T: AttnScalar>(of candidate: Tensor<T>) throws -> VerificationReport {
        guard candidate.heads == lower.heads, candidate.rows == lower.rows, candidate.cols == lower.cols else {
            throw AttnError.usage("candidate shape \(candidate.shape) does not match the output shape \(lower.shape)")
        }
        var best = -1.0, at = 0
        for e in 0..<candidate.count {
            let c = Double(candidate.storage[e])
            var bound: Double
            if c.isFinite {
                let below = c - lower.storage[e], above = upper.storage[e] - c
                bound = max(below == 0 ? 0 : below.nextUp, above == 0 ? 0 : above.nextUp)
                if bound.isNaN { bound = .infinity }
            } else {
                bound = .infinity
            }
            if bound > best { best = bound; at = e }
        }
        let perHead = lower.rows * lower.cols
        return VerificationReport(
            maxErrorBound: max(best, 0), head: perHead == 0 ? 0 : at / perHead,
            row: lower.cols == 0 ? 0 : (at % max(perHead, 1)) / lower.cols,
            col: lower.cols == 0 ? 0 : at % lower.cols,
            maxWidth: maxWidth, precision: precision)
    }
}
