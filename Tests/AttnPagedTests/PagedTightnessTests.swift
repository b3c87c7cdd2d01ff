import AttnCore
import AttnKernels
import AttnPaged
import AttnTestSupport
import Testing

/// The paged a-posteriori bound in its tight regime (issue 11): pages whose digests are tight
/// (every key of a page equal, so the box and the sphere both give the exact max score), unselected
/// values at one end of the range and selected values at the other, so |O − O_S| = τ*·range.
@Suite struct PagedTightnessTests {
    /// (hot score multiplier, cold score multiplier, scale, pages) — explicit cases.
    static let cases: [(hot: Float, cold: Float, scale: Double, pages: Int)] = [
        (2, 1.5, 0.5, 8), (3, 2.9, 0.25, 6), (1, 0.2, 2, 10), (40, 39.5, 1, 5),
    ]

    @Test func tightDigestsMakeTheBoundNearlyExact() throws {
        var worst = 0.0
        for c in Self.cases {
            let P = 4, d = 4
            let layout = try KVLayout(kvHeads: 1, d: d, dv: 1, pageSize: P)
            let store = PagedKVStore(layout: layout, capacity: nil)
            let selected = [1, c.pages - 1]
            var keys: [Float] = [], values: [Float] = []
            for j in 0..<(c.pages * P) {
                let page = j / P
                let key: [Float] = [page == 1 ? c.hot : c.cold, 0, 0, 0]
                let value: Float = selected.contains(page) ? -1 : 1
                store.append(keys: key, values: [value])
                keys += key; values.append(value)
            }
            let q: [Float] = [2, 0, 0, 0]
            let sel = PageSelection(pages: [selected])
            let out = PagedAttention.attend(store: store, queries: q, selection: sel, scale: Float(c.scale)).output
            let b = SparseBound.compute(store: store, queries: q, selection: sel, output: out, scale: c.scale)
            let n = c.pages * P
            let exact = try ReferenceAttention.compute(
                q: Tensor(rows: 1, cols: d, storage: q),
                k: Tensor(rows: n, cols: d, storage: keys),
                v: Tensor(rows: n, cols: 1, storage: values),
                scale: .decimal("\(c.scale)"))
            let slack = ForwardErrorBound.reference(
                q: Tensor(rows: 1, cols: d, storage: q), k: Tensor(rows: n, cols: d, storage: keys),
                v: Tensor(rows: n, cols: 1, storage: values), scale: .decimal("\(c.scale)"))[0]
            let e = abs(Double(out[0]) - exact[0, 0, 0])
            #expect(
                BoundLedger.shared.within(.pagedAposteriori, error: e, bound: b.max + slack), "\(c): \(e) > \(b.max)")
            worst = max(worst, (e - slack) / b.max)
            print("tightness \(TrackedBound.pagedAposteriori.rawValue) \(c): \((e - slack) / b.max)")
        }
        #expect(worst >= requiredTightness)
        #expect(worst > 0.5, "halving the bound must be caught: worst ratio \(worst)")
    }
}
