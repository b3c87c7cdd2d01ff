import AttnCore

/// (Proofs/rounding-floor.md.) The verdict on one candidate entry c of storage format T against an enclosure lo ≤ y ≤ hi of
/// the truth y, measured against the best any kernel can do: return RN_T(y).
///
/// A property of (enclosure, candidate, format) only, every bound rounded the safe way (Lemma U):
/// - the **rounding floor** |RN_T(y) − y| is enclosed in [`floorLower`, `floorUpper`];
/// - c is certifiably **correctly rounded** iff RN_T(lo) = RN_T(hi) = c (RN_T is monotone, so
///   every y in the enclosure rounds to c), certifiably not iff c lies outside [RN_T(lo), RN_T(hi)],
///   and undecided otherwise: the enclosure straddles a rounding boundary (a midpoint) of T;
/// - c is certifiably **faithful** (one of T's two neighbours of y) iff RD_T(hi) ≤ c ≤ RU_T(lo),
///   certifiably not iff c < RD_T(lo) or c > RU_T(hi).
package struct RoundingVerdict: Sendable, Equatable {
    package enum Certainty: Sendable, Equatable { case yes, no, undecided }
    package let correctlyRounded: Certainty
    package let faithful: Certainty
    package let floorLower: Double
    package let floorUpper: Double

    @inline(__always) package init(candidate c: Double, lo: Double, hi: Double, format: FloatFormat) {
        guard lo.isFinite, hi.isFinite, lo <= hi else {
            (correctlyRounded, faithful, floorLower, floorUpper) = (.undecided, .undecided, 0, .infinity)
            return
        }
        let rlo = format.roundToNearest(lo), rhi = format.roundToNearest(hi)
        if rlo == c && rhi == c {
            correctlyRounded = .yes
        } else if !(c >= rlo && c <= rhi) {  // NaN candidates land here too
            correctlyRounded = .no
        } else {
            correctlyRounded = .undecided
        }
        if format.roundDown(hi) <= c && c <= format.roundUp(lo) {
            faithful = .yes
        } else if !(c >= format.roundDown(lo) && c <= format.roundUp(hi)) {
            faithful = .no
        } else {
            faithful = .undecided
        }
        if rlo == rhi && rlo.isFinite {
            // One rounding cell: |r − y| is piecewise linear in y, extreme at the ends or 0 at r.
            floorUpper = max(Self.absDiffUp(rlo, lo), Self.absDiffUp(rlo, hi))  // mutation-check: rounding-floor
            floorLower = lo <= rlo && rlo <= hi ? 0 : min(Self.absDiffDown(rlo, lo), Self.absDiffDown(rlo, hi))
        } else {
            // Across a boundary: RN's error is at most half the spacing at the larger magnitude.
            floorLower = 0
            floorUpper = rlo.isFinite && rhi.isFinite ? format.ulp(at: max(-lo, hi)) / 2 : .infinity
        }
    }

    /// Upper and lower bounds on |a − b|: the difference itself when the subtraction is exact (2Sum's
    /// error term is 0: so a floor at an exact tie, or at y ∈ T, is exact), else one ulp outward (Lemma U).
    @inline(__always) static func absDiffUp(_ a: Double, _ b: Double) -> Double {
        if let d = exactDifference(a, b) { return abs(d) }
        return max(Directed.add(a, -b), Directed.add(b, -a), 0)
    }
    @inline(__always) static func absDiffDown(_ a: Double, _ b: Double) -> Double {
        if let d = exactDifference(a, b) { return abs(d) }
        return max(Directed.subDown(a, b), Directed.subDown(b, a), 0)
    }
    /// a − b when RN(a − b) is exact (Knuth's 2Sum: s + err = a − b exactly, no overflow), else nil.
    @inline(__always) static func exactDifference(_ a: Double, _ b: Double) -> Double? {
        let s = a - b
        guard s.isFinite else { return nil }
        let bb = s - a, err = (a - (s - bb)) + (-b - bb)
        return err == 0 ? s : nil
    }
}

/// The kernel-accuracy figures of one candidate, accumulated entry by entry and mergeable.
public struct AccuracyTally: Sendable, Equatable {
    /// Upper edges of the histogram bins (the last bin is everything above the last edge).
    public static let binEdges: [Double] = [0.5, 1, 2, 4, 8, 16, 64]
    public let format: FloatFormat
    public var entries = 0
    public var correctlyRounded = 0, faithful = 0, undecided = 0
    /// max over entries of the enclosure of |RN_T(y) − y|.
    public var floorLower = 0.0, floorUpper = 0.0
    /// A certified lower bound on max |c − y| (the upper bound is the verification's `maxErrorBound`).
    public var maxErrorLower = 0.0
    /// Counts of entries by |c − y| (upper bound) in ulps of T at |y|, and in units of u_T·max_j |v_jc|.
    public var ulpHistogram = [Int](repeating: 0, count: binEdges.count + 1)
    public var scaleHistogram = [Int](repeating: 0, count: binEdges.count + 1)

    public init(format: FloatFormat) { self.format = format }

    static func bin(_ x: Double) -> Int {
        var i = 0
        while i < binEdges.count && !(x <= binEdges[i]) { i += 1 }
        return i
    }

    /// Records entry c with enclosure [lo, hi], |c − y| ≥ `errorLower` and ≤ `errorUpper`, and the
    /// column's scale max_j |v_jc|.
    @inline(__always) mutating func record(
        candidate c: Double, lo: Double, hi: Double, errorLower: Double, errorUpper: Double, vMax: Double
    ) {
        let r = RoundingVerdict(candidate: c, lo: lo, hi: hi, format: format)
        entries += 1
        if r.correctlyRounded == .yes { correctlyRounded += 1 }
        if r.faithful == .yes { faithful += 1 }
        if r.correctlyRounded == .undecided { undecided += 1 }
        floorLower = max(floorLower, r.floorLower)
        floorUpper = max(floorUpper, r.floorUpper)
        maxErrorLower = max(maxErrorLower, errorLower)
        let minAbs = lo > 0 ? lo : hi < 0 ? -hi : 0
        ulpHistogram[Self.bin(errorUpper == 0 ? 0 : errorUpper / format.ulp(at: minAbs))] += 1
        let unit = format.unitRoundoff * vMax
        scaleHistogram[Self.bin(errorUpper == 0 ? 0 : unit == 0 ? .infinity : errorUpper / unit)] += 1
    }

    mutating func merge(_ o: AccuracyTally) {
        entries += o.entries
        correctlyRounded += o.correctlyRounded; faithful += o.faithful; undecided += o.undecided
        floorLower = max(floorLower, o.floorLower); floorUpper = max(floorUpper, o.floorUpper)
        maxErrorLower = max(maxErrorLower, o.maxErrorLower)
        for i in ulpHistogram.indices { ulpHistogram[i] += o.ulpHistogram[i]; scaleHistogram[i] += o.scaleHistogram[i] }
    }

    /// The certified enclosure [lo, hi] of max|c − y| / max|RN_T(y) − y|, given the certified upper
    /// bound `maxErrorBound` on max|c − y|: [E_lo / F_hi, E_hi / F_lo], rounded outward
    /// (0 when the candidate is exact; +∞ above when the floor may be 0).
    public func floorRatio(maxErrorBound e: Double) -> (lo: Double, hi: Double) {
        if e == 0 { return (0, 0) }
        let lo = floorUpper.isFinite && floorUpper > 0 ? Directed.divDown(maxErrorLower, floorUpper) : 0
        let hi = floorLower > 0 ? Directed.div(e, floorLower) : .infinity  // mutation-check: floor-ratio
        return (max(lo, 0), hi)
    }

    /// Fractions of the entries.
    public func fraction(_ k: Int) -> Double { entries == 0 ? 0 : Double(k) / Double(entries) }
}
