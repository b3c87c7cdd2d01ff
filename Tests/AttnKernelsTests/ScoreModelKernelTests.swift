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

    /// Every term at once, on adversarial inputs: softcap (sometimes far below the scores), a bias over
    /// [heads, n_q, n_k], steep ALiBi slopes, sinks (sometimes dominating), left and right windows, an explicit
    /// mask, either alignment; both precisions, and the rows that see nothing are 0.
    @Test("all score terms and masks: fast agrees with the reference within both bounds")
    func allTermsAgree() async {
        await propertyCheck(
            count: 40, input: AdversarialCase.generator(), Gen.int(in: 0...Int.max)
        ) { c0, seed in
            var c = c0
            c.causal = false
            var rng = Xoshiro256StarStar(seed: UInt64(truncatingIfNeeded: seed))
            func pick(_ n: UInt64) -> Int { Int(rng.next() % n) }
            func uniform(_ a: Double) -> Double { (rng.nextUnit() * 2 - 1) * a }
            let (nq, nk, heads) = (c.nq, c.nk, c.heads)
            let window =
                pick(3) == 0
                ? nil
                : try! AttentionWindow(
                    left: pick(2) == 0 ? nil : pick(5), right: pick(2) == 0 ? nil : pick(5))
            let explicit =
                pick(3) != 0
                ? nil
                : try! ScoreGrid(
                    shape: [nq, nk], values: (0..<nq * nk).map { _ in pick(4) != 0 }, parameter: .mask)
            let mask = AttentionMask(
                alignment: pick(2) == 0 ? .topLeft : .bottomRight, window: window, explicit: explicit)
            let bias =
                pick(2) == 0
                ? nil
                : try! ScoreGrid(
                    shape: [heads, nq, nk], values: (0..<heads * nq * nk).map { _ in uniform(pick(2) == 0 ? 1 : 30) },
                    parameter: .bias)
            let slopes =
                pick(2) == 0
                ? nil
                : try! ScoreGrid.perHead(
                    (0..<heads).map { _ in abs(uniform(pick(2) == 0 ? 0.1 : 8)) }, parameter: .alibi)
            let sinks =
                pick(2) == 0
                ? nil
                : try! ScoreGrid.perHead(
                    (0..<heads).map { _ in uniform(pick(2) == 0 ? 2 : 60) }, parameter: .sinks)
            let softcap: Double? = pick(2) == 0 ? nil : [0.5, 5, 50][pick(3)]
            let model = try! ScoreModel(mask: mask, softcap: softcap, bias: bias, alibiSlopes: slopes, sinks: sinks)
            try! Self.expectAgree(c, model, Float.self)
            try! Self.expectAgree(c, model, Double.self)
        }
    }

    @Test("the LSE of the fast kernel agrees with the reference's (both alignments, sinks, fully masked rows)")
    func lseAgrees() throws {
        let c = AttentionCase(heads: 2, nq: 9, nk: 5, d: 4, dv: 3, bound: 2, scale: .standard, causal: false, seed: 8)
        let (q, k, v) = c.tensors(Double.self)
        for model in [
            ScoreModel.causal(), .causal(.topLeft), .plain,
            try ScoreModel(mask: .causal(), sinks: try .perHead([0.5, -3], parameter: .sinks)),
        ] {
            let fast = try FastAttention.forward(q: q, k: k, v: v, scale: c.scale, scoreModel: model)
            let ref = try ReferenceAttention.forward(q: q, k: k, v: v, scale: c.scale, scoreModel: model)
            for (a, b) in zip(fast.lse, ref.lse) {
                #expect(a == b || abs(a - b) <= 1e-12 * max(1, abs(b)), "\(model.mask) \(a) vs \(b)")
            }
        }
    }

    /// A bias far above the scores (2¹⁶, float32 ulp 2⁻⁷) swallows scores of ±4·10⁻³ when the fused Float32
    /// kernel adds it: the rounding of score + bias is the row's whole error, which only the score terms' part
    /// of δ_i covers (ScoreTermBounds, Proofs/score-terms-error.md; mutation row score-terms).
    @Test func hugeBiasRoundingIsCovered() throws {
        let (nq, nk, d) = (4, 64, 8)
        let q = Tensor<Float>(heads: 1, rows: nq, cols: d, storage: [Float](repeating: 0.125, count: nq * d))
        let k = Tensor<Float>(
            heads: 1, rows: nk, cols: d, storage: (0..<nk * d).map { Float(($0 * 5 + $0 / d * 3) % 7 - 3) / 256 })
        let v = Tensor<Float>(heads: 1, rows: nk, cols: 2, storage: (0..<nk * 2).map { Float($0 % 3) - 1 })
        let bias = try ScoreGrid(
            shape: [nq, nk], values: (0..<nq * nk).map { 65536 + Double($0 % 16) / 2 }, parameter: .bias)
        let model = try ScoreModel(bias: bias)
        let tiles = TileSizes(queryTile: 8, keyTile: 16)
        let fast = try FastAttention.compute(q: q, k: k, v: v, scale: .standard, scoreModel: model, tiles: tiles)
        let ref = try ReferenceAttention.compute(q: q, k: k, v: v, scale: .standard, scoreModel: model)
        let bf = ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: .standard, scoreModel: model, tiles: tiles)
        let br = ForwardErrorBound.reference(q: q, k: k, v: v, scale: .standard, scoreModel: model)
        var worst = 0.0
        for i in 0..<nq {
            for c in 0..<2 {
                let e = abs(Double(fast[0, i, c]) - ref[0, i, c])
                worst = max(worst, e)
                #expect(e <= bf[i] + br[i], "row \(i), col \(c): error \(e), bounds \(bf[i]) + \(br[i])")
            }
        }
        #expect(worst > 1e-5, "the bias's rounding must show: worst error \(worst)")
    }
}
