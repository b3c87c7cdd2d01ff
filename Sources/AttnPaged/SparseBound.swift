import AttnCore
import AttnKernels
import Foundation

/// A certified a-posteriori bound on one sparse decode step's error.
///
/// For each query head, an upper bound on max_c |Ô_c − O_c|, where Ô is the
/// sparse output actually returned and O the exact attention over *all* tokens
/// of the KV head (real arithmetic, scale s or the exact value s stands for).
/// It reads only
/// - the selected pages' keys and values (their exact contributions, recomputed in Double),
/// - the digests (aabb and sphere-max) and value ranges of the unselected pages,
/// never an unselected key. Derivation: Proofs/paged-sparse-bound.md; checked by
/// `AttnPagedTests.SparseBoundTests` against `ReferenceAttention`.
public struct SparseStepBound: Sendable, Equatable {
    /// Bound per query head (+∞ when it cannot be certified, e.g. an unselected page without digest).
    public let perHead: [Double]
    /// The part due to unselected pages (τ·R), per head.
    public let truncation: [Double]
    /// The part due to floating-point rounding of the sparse kernel, per head.
    public let rounding: [Double]

    public var max: Double { perHead.max() ?? 0 }
}

public enum SparseBound {
    /// - Parameters:
    ///   - queries: `queryHeads × d`; `output`: the sparse step's `queryHeads × dv` result.
    ///   - scale: the softmax scale s (the Double `Scale.value(d:)`; the bound also covers the
    ///     exact value s* it stands for, |s − s*| ≤ `Scale.relativeError(unitRoundoff: 2⁻⁵³)`·s*).
    public static func compute(
        store: PagedKVStore, queries: [Float], selection: PageSelection,
        output: [Float], scale s: Double
    ) -> SparseStepBound {
        let L = store.layout
        var perHead: [Double] = [], trunc: [Double] = [], round: [Double] = []
        for h in 0..<L.queryHeads {
            let (b, t, r) = head(
                h, store: store, query: Array(queries[h * L.d..<(h + 1) * L.d]),
                pages: selection.pages[h], output: Array(output[h * L.dv..<(h + 1) * L.dv]), s: s)
            perHead.append(b); trunc.append(t); round.append(r)
        }
        return SparseStepBound(perHead: perHead, truncation: trunc, rounding: round)
    }

    static let u = ReferenceAttention.Decode.u
    static func gamma(_ n: Int) -> Double { ReferenceAttention.Decode.gamma(n) }
    static let tiny = ReferenceAttention.Decode.tiny

    static func head(
        _ h: Int, store: PagedKVStore, query qf: [Float], pages selected: [Int], output: [Float],
        s: Double
    ) -> (Double, Double, Double) {
        let L = store.layout
        let (d, dv, P) = (L.d, L.dv, L.pageSize)
        let kv = L.kvHead(ofQueryHead: h)
        precondition(!selected.isEmpty)
        if output.contains(where: { !$0.isFinite }) { return (.infinity, .infinity, .infinity) }
        // The proof's |s − s*| ≤ 2u·s* needs a normal Double scale: a subnormal one carries no relative
        // bound (issue 23), so the bound is +∞ there rather than a finite number that may be too small.
        if !(s >= .leastNormalMagnitude) { return (.infinity, .infinity, .infinity) }
        let q = qf.map(Double.init)

        // 1. Selected tokens, recomputed in Double with a certified rounding enclosure (Lemmas 2–3).
        let exact = ReferenceAttention.decode(
            query: q, s: s, d: d, dv: dv,
            blocks: selected.map { p in
                (
                    store.residentKeys(page: p, head: kv)!, store.residentValues(page: p, head: kv)!,
                    store.table.pageLength(p)
                )
            })
        let (oBar, eD, m, B) = (exact.output, exact.error, exact.shift, exact.massLowerBound)

        // 2. Unselected pages, from digests only: A ≥ Σ_U exp(s·q·k_j − m) (Lemma 1, 4).
        let selectedSet = Set(selected)
        var qq = 0.0
        for c in 0..<d { qq += q[c] * q[c] }
        let qNormUp = qq.squareRoot() * (1 + gamma(d + 2))
        let dig = store.digests[kv]
        var A = 0.0, unselected = 0
        var lo = [Double](repeating: .infinity, count: dv), hi = [Double](repeating: -.infinity, count: dv)
        for p in 0..<store.pageCount where !selectedSet.contains(p) {
            guard p < dig.count else { return (.infinity, .infinity, .infinity) }  // no digest: cannot certify
            unselected += 1
            let ub = dig.certifiedUpperBound(page: p, query: q, queryNormUpper: qNormUp)
            let y = s * ub
            // s* ≤ s/(1 − c_s) (c_s = 2u, Scale.relativeError) and y = fl(s·ub): 6u covers both and the product.
            let yUp = y >= 0 ? y * (1 + 6 * u) : y * (1 - 6 * u)
            let x = yUp - m
            let xUp = x + 4 * u * (Swift.abs(yUp) + Swift.abs(m))
            A += Double(P) * (exp(xUp) * (1 + 4 * u) + tiny)
            for c in 0..<dv {
                lo[c] = Swift.min(lo[c], Double(dig.valueMin[p * dv + c]))
                hi[c] = Swift.max(hi[c], Double(dig.valueMax[p * dv + c]))
            }
        }
        var tau = 0.0
        if unselected > 0 {
            A *= 1 + gamma(unselected + 2)
            tau = A.isInfinite || B == 0 ? 1 : Swift.min(1, A / (A + B) * (1 + 4 * u))
        }

        // 3. Assemble per column: measured kernel rounding + eD + τ·R.
        var best = 0.0, bestTrunc = 0.0, bestRound = 0.0
        for c in 0..<dv {
            let meas = Swift.abs(Double(output[c]) - oBar[c]) * (1 + 2 * u)
            var R = 0.0
            if unselected > 0 {
                R = Swift.max(0, hi[c] - oBar[c] + eD[c], oBar[c] + eD[c] - lo[c]) * (1 + 4 * u)
            }
            let trunc = tau * R * (1 + 2 * u)
            let total = (meas + eD[c] + trunc) * (1 + 8 * u)
            if total.isNaN { return (.infinity, .infinity, .infinity) }
            best = Swift.max(best, total)
            bestTrunc = Swift.max(bestTrunc, trunc)
            bestRound = Swift.max(bestRound, meas + eD[c])
        }
        return (best, bestTrunc, bestRound)
    }
}
