/// The verdict on one candidate entry c given an enclosure lo ≤ truth ≤ hi
/// (Proofs/float-certified-engine.md, §6), with PyTorch's tolerance
/// `|c − truth| ≤ atol + rtol·|truth|` (AttnKit.docc/Conventions.md, "Options").
///
/// - certified pass: max over the enclosure of |c − t| ≤ atol + rtol·min|t|;
/// - certified fail: min over the enclosure of |c − t| > atol + rtol·max|t|;
/// - otherwise undecided at this enclosure's width.
/// Every bound is rounded in the safe direction (Lemma U). A NaN or ±∞
/// candidate certifiably fails (the truth is finite).
package struct EntryVerdict: Sendable, Equatable {
    package enum Kind: Sendable, Equatable { case pass, fail, undecided }
    package let kind: Kind
    /// An upper bound on |c − truth|.
    package let errorBound: Double
    /// A lower bound on |c − truth| (0 when the enclosure is not finite).
    package var errorLowerBound: Double = 0
    /// An upper bound on |c − truth| / |truth| (+∞ when the enclosure touches 0).
    package let relativeErrorBound: Double
    /// An upper bound on the enclosure's width hi − lo.
    package let width: Double

    @inline(__always) package init(candidate c: Double, lo: Double, hi: Double, atol: Double, rtol: Double) {
        typealias D = Directed
        width = lo.isFinite && hi.isFinite ? max(D.add(hi, -lo), 0) : .infinity
        guard c.isFinite else { kind = .fail; errorBound = .infinity; relativeErrorBound = .infinity; return }
        guard lo.isFinite, hi.isFinite, lo <= hi else {
            kind = .undecided; errorBound = .infinity; relativeErrorBound = .infinity; return
        }
        let upper = max(D.add(c, -lo), D.add(hi, -c), 0)  // ≥ |c − t| for all t ∈ [lo, hi]
        let lower = max(D.subDown(lo, c), D.subDown(c, hi), 0)  // ≤ |c − t| for all t ∈ [lo, hi]
        let absLo = lo > 0 ? lo : hi < 0 ? -hi : 0
        let absHi = max(-lo, hi)
        errorBound = upper
        errorLowerBound = lower
        relativeErrorBound = upper == 0 ? 0 : absLo > 0 ? D.div(upper, absLo) : .infinity
        if upper <= D.addDown(atol, D.mulDown(rtol, absLo)) {
            kind = .pass
        } else if lower > D.add(atol, D.mul(rtol, absHi)) {
            kind = .fail
        } else {
            kind = .undecided
        }
    }
}
