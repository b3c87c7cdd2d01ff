import AttnCore
import AttnKernels
import AttnTestSupport
import Foundation
import PropertyBased
import Testing

/// The kernels over the score model: masks of either alignment and right-bounded windows agree
/// with the Float64 reference within both bounds, fully masked rows are exactly 0, and terms a
/// kernel does not compute are refused, never ignored.
@Suite struct ScoreModelKernelTests {
    static func expectAgree<T: KernelScalar>(_ c: AttentionCase, _ model: ScoreModel, _: T.Type) throws {
        let (q, k, v) = c.tensors(T.self)
        let tiles = TileSizes(queryTile: 8, keyTile: 16)
        let fast = try FastAttention.compute(q: q, k: k, v: v, scale: c.scale, scoreModel: model, tiles: tiles)
        let ref = try ReferenceAttention.compute(q: q, k: k, v: v, scale: c.scale, scoreModel: model)
        let bf = ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: c.scale, scoreModel: model, tiles: tiles)
        let br = ForwardErrorBound.reference(q: q, k: k, v: v, scale: c.scale, scoreModel: model)
        for h in 0..<q.heads {
            for i in 0..<q.rows {
                let empty = model.mask.visibleKeys(row: i, queries: q.rows, keys: k.rows).isEmpty
                for j in 0..<v.cols {
                    if empty {
                        #expect(fast[h, i, j] == 0 && ref[h, i, j] == 0, "\(c) row \(i) sees no key")
                    } else {
                        let e = abs(Double(fast[h, i, j]) - ref[h, i, j])
                        #expect(e <= bf[h * q.rows + i] + br[h * q.rows + i], "\(c) \(model.mask) (\(h),\(i),\(j))")
                    }
                }
            }
        }
    }

    @Test("top-left and bottom-right causal, right-bounded windows, any n_q and n_k: fast agrees with the reference")
    func masksAgree() async {
        await propertyCheck(
            count: 40, input: AdversarialCase.generator(), Gen.bool(), Gen.int(in: -1...5)
        ) { c0, topLeft, right in
            var c = c0
            c.causal = false
            let window = try! AttentionWindow(left: nil, right: right < 0 ? nil : right)
            let model = ScoreModel(mask: AttentionMask(alignment: topLeft ? .topLeft : .bottomRight, window: window))
            try! Self.expectAgree(c, model, Float.self)
            try! Self.expectAgree(c, model, Double.self)
        }
    }

    @Test("n_q > n_k, bottom-right causal: the first n_q − n_k rows are 0, in both kernels, with split-K and at decode")
    func fullyMaskedRowsAreZero() throws {
        // n_k = 4096 with one row block per job triggers split-K (FastAttention.keySplits).
        for (nq, nk) in [(9, 4), (4100, 4096)] {
            let c = AttentionCase(
                heads: 1, nq: nq, nk: nk, d: 4, dv: 3, bound: 1, scale: .standard, causal: false, seed: 3)
            try Self.expectAgree(c, .causal(), Float.self)
        }
        let c = AttentionCase(
            heads: 1, nq: 1, nk: 8192, d: 4, dv: 3, bound: 1, scale: .standard, causal: false, seed: 4)
        // Decode (the one-row path), top-left: the row sees key 0 only, and bottom-right every key.
        try Self.expectAgree(c, .causal(.topLeft), Float.self)
        try Self.expectAgree(c, .causal(), Float.self)
    }

    @Test("terms the fast kernel does not compute yet are refused with their parameter")
    func unsupportedTermsAreRefused() throws {
        let q = Tensor<Float>(rows: 2, cols: 2), k = Tensor<Float>(rows: 3, cols: 2),
            v = Tensor<Float>(rows: 3, cols: 1)
        let models: [(ScoreModel, Parameter)] = [
            (ScoreModel(mask: AttentionMask(window: try AttentionWindow(left: 1, right: 0))), .window),
            (try ScoreModel(softcap: 2), .softcap),
            (try ScoreModel(sinks: try .perHead([0], parameter: .sinks)), .sinks),
        ]
        for (m, p) in models {
            do {
                _ = try FastAttention.compute(q: q, k: k, v: v, scale: .standard, scoreModel: m)
                Issue.record("\(p) accepted")
            } catch let e as AttnError { #expect(e.kind == .usage && e.parameter == p, "\(e)") }
        }
    }
}
