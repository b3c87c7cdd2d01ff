import CVectorMath
import Foundation

/// How a page's keys are summarised for scoring (ArkVale §4, Quest §3).
public enum DigestKind: String, Sendable, CaseIterable {
    /// Elementwise min m and max M of the keys (Quest). Score Σ_c max(q_c·M_c, q_c·m_c),
    /// an upper bound of max_j q·k_j over the page.
    case aabb
    /// ArkVale's default: centre c = (M+m)/2 ± the mean absolute deviation per
    /// column, scored like `aabb`. Not a bound (the box need not hold every key).
    case cuboidMean = "cuboid-mean"
    /// Ball of centre c = (M+m)/2 and radius r = max_j ‖k_j − c‖₂: score q·c + r‖q‖₂,
    /// an upper bound of max_j q·k_j by Cauchy–Schwarz.
    case sphereMax = "sphere-max"
    /// The mean key μ, scored q·μ (ArkVale Fig. 7's "centroid"): the page's *average*
    /// score, not its max, so a page with one sharp key among diffuse ones ranks low.
    case centroid

    /// True when the score is a guaranteed upper bound of max_j q·k_j.
    public var isBound: Bool { self == .aabb || self == .sphereMax }
}

/// The digests of one KV head's full pages, kept in memory for every page
/// (resident or not), as ArkVale keeps them on the GPU. The partial last page
/// has none. Also keeps each page's elementwise value range, for the bound.
///
/// Guarantees (tested): for every key k_j of page p and every query q,
/// `aabb` and `sphere-max` scores are ≥ q·k_j in exact arithmetic; `radius[p]`
/// is rounded up so that ‖k_j − c‖₂ ≤ radius[p] holds for the stored Float centre.
public struct PageDigests: Sendable {
    public let d: Int
    public let dv: Int
    public private(set) var count = 0
    /// Key min / max, `count × d`.
    public private(set) var keyMin: [Float] = []
    public private(set) var keyMax: [Float] = []
    /// Cuboid-mean box, `count × d`.
    public private(set) var meanBoxLow: [Float] = []
    public private(set) var meanBoxHigh: [Float] = []
    /// Sphere centre `count × d` and radius `count`.
    public private(set) var centre: [Float] = []
    public private(set) var radius: [Float] = []
    /// Mean key, `count × d` (the centroid digest).
    public private(set) var mean: [Float] = []
    /// Value min / max, `count × dv`.
    public private(set) var valueMin: [Float] = []
    public private(set) var valueMax: [Float] = []

    init(d: Int, dv: Int) {
        self.d = d
        self.dv = dv
    }

    /// Summarises one full page (`rows` keys of d columns, values of dv columns).
    mutating func append(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, rows: Int) {
        precondition(rows >= 1)
        var lo = [Float](repeating: .infinity, count: d), hi = [Float](repeating: -.infinity, count: d)
        for j in 0..<rows {
            for c in 0..<d { let x = keys[j * d + c]; lo[c] = min(lo[c], x); hi[c] = max(hi[c], x) }
        }
        // Centre in Float; the radius is measured in Double from that stored centre.
        var mid = [Float](repeating: 0, count: d)
        for c in 0..<d { mid[c] = lo[c] / 2 + hi[c] / 2 }
        var dev = [Double](repeating: 0, count: d), sum = [Double](repeating: 0, count: d), r2 = 0.0
        for j in 0..<rows {
            var s = 0.0
            for c in 0..<d {
                let x = Double(keys[j * d + c]) - Double(mid[c])
                sum[c] += Double(keys[j * d + c])
                dev[c] += abs(x)
                s += x * x
            }
            r2 = max(r2, s)
        }
        // Each difference, square and sum carries relative error ≤ u, so
        // ‖k − c‖² ≤ r2·(1 + γ_{d+4}); the product and sqrt lose ≤ 2u more. Round up into Float.
        let u = 0x1p-53, g = Double(d + 4) * u / (1 - Double(d + 4) * u)
        let r = (r2 * (1 + g)).squareRoot() * (1 + 4 * u)
        var rf = Float(r)
        if Double(rf) < r { rf = rf.nextUp }
        keyMin += lo
        keyMax += hi
        centre += mid
        radius.append(rf)
        for c in 0..<d { mean.append(Float(sum[c] / Double(rows))) }
        for c in 0..<d {
            let mad = Float(dev[c] / Double(rows))
            meanBoxLow.append(mid[c] - mad)
            meanBoxHigh.append(mid[c] + mad)
        }
        var vlo = [Float](repeating: .infinity, count: dv), vhi = [Float](repeating: -.infinity, count: dv)
        for j in 0..<rows {
            for c in 0..<dv { let x = values[j * dv + c]; vlo[c] = min(vlo[c], x); vhi[c] = max(vhi[c], x) }
        }
        valueMin += vlo
        valueMax += vhi
        count += 1
    }

    /// Scores of `pages` for `heads` queries (`heads × d` entries, row-major), in Float: the fast path used for
    /// selection. Writes `out[g·stride + i]` for query g and `pages[i]`.
    ///
    /// Page by page, every query of the group scored while the page's digest is in L1: the digests are read
    /// from memory once per KV head, not once per query head. Each score is bit for bit the one query's score
    /// alone, whatever the group. Not rounding-safe; `SparseBound` re-derives rigorous upper bounds in Double.
    func scores(
        kind: DigestKind, queries q: UnsafePointer<Float>, heads: Int, queryNorms: [Float],
        pages: UnsafeBufferPointer<Int>, into out: UnsafeMutablePointer<Float>, stride: Int
    ) {
        switch kind {
        case .aabb, .cuboidMean:
            // max(q_c·hi_c, q_c·lo_c) = q⁺_c·hi_c + q⁻_c·lo_c exactly (hi ≥ lo; one of q⁺, q⁻ is 0),
            // which vectorises without a per-lane max.
            var qPos = [Float](repeating: 0, count: heads * d), qNeg = qPos
            for c in 0..<(heads * d) { if q[c] > 0 { qPos[c] = q[c] } else { qNeg[c] = q[c] } }
            let (lo, hi) = kind == .aabb ? (keyMin, keyMax) : (meanBoxLow, meanBoxHigh)
            lo.withUnsafeBufferPointer { l in
                hi.withUnsafeBufferPointer { h in
                    qPos.withUnsafeBufferPointer { qp in
                        qNeg.withUnsafeBufferPointer { qn in
                            attnbound_box_scores_f32(
                                qp.baseAddress!, qn.baseAddress!, heads, l.baseAddress!, h.baseAddress!, d,
                                pages.baseAddress, pages.count, out, stride)
                        }
                    }
                }
            }
        case .sphereMax:
            centre.withUnsafeBufferPointer { cb in
                for (i, p) in pages.enumerated() {
                    for g in 0..<heads {
                        out[g * stride + i] =
                            Self.dot(q + g * d, cb.baseAddress! + p * d, d) + radius[p] * queryNorms[g]
                    }
                }
            }
        case .centroid:
            mean.withUnsafeBufferPointer { mb in
                for (i, p) in pages.enumerated() {
                    for g in 0..<heads { out[g * stride + i] = Self.dot(q + g * d, mb.baseAddress! + p * d, d) }
                }
            }
        }
    }

    /// q·x, vectorised per ISA (Sources/CVectorMath).
    @inline(__always) static func dot(_ q: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ d: Int) -> Float {
        attnbound_dot_f32(q, x, d)
    }

    /// Scores of every page for one query (`d` entries), in Float (the selection's fast path).
    public func scores(kind: DigestKind, query: [Float]) -> [Float] {
        precondition(query.count == d)
        var nq: Float = 0
        for x in query { nq += x * x }
        var out = [Float](repeating: 0, count: count)
        let pages = Array(0..<count)
        query.withUnsafeBufferPointer { q in
            pages.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer {
                    scores(
                        kind: kind, queries: q.baseAddress!, heads: 1, queryNorms: [nq.squareRoot()], pages: pb,
                        into: $0.baseAddress!, stride: pages.count)
                }
            }
        }
        return out
    }

    /// `certifiedUpperBound(page:query:queryNormUpper:)` for a Float query (the norm bound is derived here).
    public func certifiedUpperBound(page p: Int, query: [Float]) -> Double {
        let q = query.map(Double.init)
        let u = 0x1p-53
        let qq = q.reduce(0) { $0 + $1 * $1 }
        return certifiedUpperBound(
            page: p, query: q, queryNormUpper: qq.squareRoot() * (1 + Double(d + 2) * u / (1 - Double(d + 2) * u)))
    }

    /// A rigorous upper bound, in Double, of max_j q·k_j over page `p` (exact arithmetic
    /// on the stored Float keys): the smaller of the aabb and sphere-max scores, each
    /// evaluated with its rounding error added (products of Floats are exact in Double,
    /// a sum of n terms errs by ≤ γ_n Σ|terms|). Proof: Proofs/paged-sparse-bound.md, Lemma 1.
    public func certifiedUpperBound(page p: Int, query q: [Double], queryNormUpper: Double) -> Double {
        let u = 0x1p-53, g = Double(d + 2) * u / (1 - Double(d + 2) * u)
        var box = 0.0, boxAbs = 0.0, dot = 0.0, dotAbs = 0.0
        let base = p * d
        for c in 0..<d {
            let t = max(q[c] * Double(keyMax[base + c]), q[c] * Double(keyMin[base + c]))
            box += t
            boxAbs += abs(t)
            let e = q[c] * Double(centre[base + c])
            dot += e
            dotAbs += abs(e)
        }
        let aabbUpper = box + g * boxAbs
        let rq = Double(radius[p]) * queryNormUpper
        let sphereUpper = (dot + g * dotAbs) + rq * (1 + 2 * u)
        // One more rounding of the final additions: push outward by 4u of the magnitudes.
        return min(aabbUpper + 4 * u * (abs(box) + g * boxAbs), sphereUpper + 4 * u * (abs(dot) + dotAbs + rq))
    }
}
