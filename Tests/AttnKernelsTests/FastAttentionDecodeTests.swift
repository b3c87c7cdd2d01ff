import AttnCore
import AttnKernels
import AttnTestSupport
import Foundation
import PropertyBased
import Testing

/// Decode with GQA: the rows of a group's query heads run as one job over one pass of K and V (the few-row
/// path, tile by tile, or the register tile beyond 16 rows), split-K over long contexts. Checked against the
/// reference on K and V expanded to one head per query head, within the sum of both bounds
/// (Proofs/online-softmax-error.md, "Few rows (decode)" and "Split-K").
@Suite("FastAttention decode under GQA: one pass over K and V per group, within the bound")
struct FastAttentionDecodeTests {
    /// Query head h of `q` reads KV head h / group: the reference sees K, V repeated per query head.
    static func check<T: KernelScalar>(
        heads kvHeads: Int, group: Int, nq: Int, nk: Int, d: Int, dv: Int, model: ScoreModel, seed: UInt64,
        magnitude: Double, _: T.Type, isa: KernelISA = .auto
    ) throws {
        var rng = Xoshiro256StarStar(seed: seed)
        let q: Tensor<T> = InputDistribution.uniform.sample(
            heads: kvHeads * group, rows: nq, cols: d, bound: magnitude, using: &rng)
        let k: Tensor<T> = InputDistribution.uniform.sample(heads: kvHeads, rows: nk, cols: d, bound: 1, using: &rng)
        let v: Tensor<T> = InputDistribution.uniform.sample(heads: kvHeads, rows: nk, cols: dv, bound: 1, using: &rng)
        let shape = try AttentionShape(q: q, k: k, v: v)
        let (ke, ve) = (shape.expandingKV(k), shape.expandingKV(v))
        let fast = try FastAttention.compute(q: q, k: k, v: v, scale: .standard, scoreModel: model, isa: isa)
        let ref = try ReferenceAttention.compute(q: q, k: ke, v: ve, scale: .standard, scoreModel: model)
        let bf = ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: .standard, scoreModel: model, as: T.self)
        let br = ForwardErrorBound.reference(q: q, k: ke, v: ve, scale: .standard, scoreModel: model)
        for h in 0..<q.heads {
            for i in 0..<nq {
                let r = h * nq + i
                for c in 0..<dv {
                    let e = abs(Double(fast[h, i, c]) - ref[h, i, c])
                    #expect(e <= bf[r] + br[r], "head \(h) row \(i) col \(c): error \(e) > \(bf[r] + br[r])")
                }
            }
        }
    }

    static let models: [ScoreModel] = [.plain, .causal(), .causal(.topLeft)]

    @Test(
        "grouped decode (few-row path and register tile), every mask the kernel computes, both precisions",
        arguments: models)
    func grouped(model: ScoreModel) async {
        let gen = zip(
            Gen.int(in: 1...3), Gen.int(in: 1...9), Gen.int(in: 1...5), Gen.int(in: 1...700), Gen.int(in: 1...40)
        )
        .map { ($0, $1, $2, $3, $4) }
        await propertyCheck(count: 25, input: gen) { kvHeads, group, nq, nkExtra, d in
            let nk = nq + nkExtra
            for isa in [KernelISA.auto, .baseline] {
                try! Self.check(
                    heads: kvHeads, group: group, nq: nq, nk: nk, d: d, dv: 1 + d % 7 * 5, model: model,
                    seed: UInt64(nk * 31 + d), magnitude: 2, Float.self, isa: isa)
                try! Self.check(
                    heads: kvHeads, group: group, nq: nq, nk: nk, d: d, dv: 1 + d % 7 * 5, model: model,
                    seed: UInt64(nk * 17 + d), magnitude: 2, Double.self, isa: isa)
            }
        }
    }

    /// A query head's decode output does not depend on the heads grouped with it: the few-row path scores and
    /// accumulates four rows at a time where they see the same block of keys (sharing the loads of K and V),
    /// with each row's own roundings, so the grouped job equals, bit for bit, each query head run alone.
    /// d = 16, 64, 128 take the four-row scores (Float32 on AVX-512); d = 40 and dv = 24 their tails.
    @Test(
        "grouped decode equals each query head alone, bit for bit",
        arguments: [(16, 16), (64, 64), (128, 128), (128, 24), (40, 40)])
    func groupedEqualsAlone(d: Int, dv: Int) throws {
        for (group, nq, nk, model) in [
            (4, 1, 700, ScoreModel.plain), (5, 1, 1100, .plain), (8, 2, 900, .causal()), (4, 1, 33, .plain),
        ] {
            try Self.alone(group: group, nq: nq, nk: nk, d: d, dv: dv, model: model, Float.self)
            try Self.alone(group: group, nq: nq, nk: nk, d: d, dv: dv, model: model, Double.self)
        }
    }

    static func alone<T: KernelScalar>(
        group: Int, nq: Int, nk: Int, d: Int, dv: Int, model: ScoreModel, _: T.Type
    ) throws {
        var rng = Xoshiro256StarStar(seed: UInt64(group * 1000 + nk + d))
        let q: Tensor<T> = InputDistribution.uniform.sample(heads: group, rows: nq, cols: d, bound: 3, using: &rng)
        let k: Tensor<T> = InputDistribution.uniform.sample(heads: 1, rows: nk, cols: d, bound: 1, using: &rng)
        let v: Tensor<T> = InputDistribution.uniform.sample(heads: 1, rows: nk, cols: dv, bound: 1, using: &rng)
        #expect(
            FastAttention.keySplits(model, queries: nq, keys: nk, heads: group, kvHeads: 1)
                == FastAttention.keySplits(model, queries: nq, keys: nk, heads: 1, kvHeads: 1))
        let grouped = try FastAttention.compute(q: q, k: k, v: v, scale: .standard, scoreModel: model)
        for h in 0..<group {
            let qh = Tensor<T>(rows: nq, cols: d, storage: Array(q.storage[(h * nq * d)..<((h + 1) * nq * d)]))
            let alone = try FastAttention.compute(q: qh, k: k, v: v, scale: .standard, scoreModel: model)
            for i in 0..<nq {
                for c in 0..<dv {
                    #expect(
                        grouped[h, i, c] == alone[0, i, c],
                        "\(T.self) d \(d) group \(group) head \(h) row \(i) col \(c)")
                }
            }
        }
    }

    /// Long contexts with few KV heads: split-K ranges of the grouped job, merged.
    @Test("grouped decode with split-K", arguments: models)
    func groupedSplitK(model: ScoreModel) throws {
        for (kvHeads, group, nq, nk, d) in [(1, 4, 1, 5000, 16), (2, 3, 2, 4700, 9), (1, 8, 2, 4400, 64)] {
            #expect(
                FastAttention.keySplits(model, queries: nq, keys: nk, heads: kvHeads * group, kvHeads: kvHeads)
                    > 1)
            try Self.check(
                heads: kvHeads, group: group, nq: nq, nk: nk, d: d, dv: d, model: model, seed: 3, magnitude: 3,
                Float.self)
            try Self.check(
                heads: kvHeads, group: group, nq: nq, nk: nk, d: d, dv: d, model: model, seed: 4, magnitude: 3,
                Double.self)
        }
    }

    /// Prefill under GQA reads each KV head in place too (Kᵀ packed once per KV head).
    @Test("GQA prefill (many rows per head) is within the bound")
    func gqaPrefill() throws {
        try Self.check(
            heads: 2, group: 3, nq: 300, nk: 700, d: 24, dv: 16, model: .causal(), seed: 9, magnitude: 2, Float.self)
        try Self.check(
            heads: 1, group: 2, nq: 40, nk: 600, d: 8, dv: 8, model: .plain, seed: 10, magnitude: 2, Double.self)
    }

    /// Windows and the score terms at decode under GQA: a left window keeps the group in one job (the few-row
    /// path applies it at each row's own position); per-head terms (ALiBi slopes, sinks, bias) make each
    /// query head its own job, so no head reads another's slope or sink.
    @Test("decode under GQA with windows and per-head score terms")
    func groupedWithTerms() throws {
        let heads = 2 * 4
        let slopes = try ScoreGrid.perHead((0..<heads).map { 0.01 * Double($0 + 1) }, parameter: .alibi)
        let sinks = try ScoreGrid.perHead((0..<heads).map { Double($0) - 3 }, parameter: .sinks)
        let window = try AttentionWindow(left: 300, right: 0)
        let models = [
            ScoreModel(mask: AttentionMask(alignment: .bottomRight, window: window)),
            ScoreModel(mask: AttentionMask(alignment: .topLeft, window: try AttentionWindow(left: 40, right: 700))),
            try ScoreModel(mask: .causal(), softcap: 5, alibiSlopes: slopes, sinks: sinks),
            try ScoreModel(mask: AttentionMask(alignment: .bottomRight, window: window), sinks: sinks),
        ]
        for model in models {
            for (nq, nk) in [(1, 900), (2, 5000)] {
                try Self.check(
                    heads: 2, group: 4, nq: nq, nk: nk, d: 16, dv: 16, model: model, seed: UInt64(nk + nq),
                    magnitude: 2, Float.self)
                try Self.check(
                    heads: 2, group: 4, nq: nq, nk: nk, d: 16, dv: 16, model: model, seed: UInt64(nk), magnitude: 2,
                    Double.self)
            }
        }
    }

    /// The decode path's own NaN/Inf detection (no second pass over K and V): one non-finite entry of K or
    /// V anywhere is refused, naming the tensor, as the full scan would.
    @Test("NaN or ±∞ in K or V at decode is refused, naming the tensor", arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteAtDecode(bad: Float) throws {
        var rng = Xoshiro256StarStar(seed: 5)
        for (kvHeads, group, nk) in [(1, 1, 300), (2, 4, 5000), (1, 3, 17)] {
            let q: Tensor<Float> = InputDistribution.uniform.sample(
                heads: kvHeads * group, rows: 1, cols: 8, bound: 1, using: &rng)
            let k: Tensor<Float> = InputDistribution.uniform.sample(
                heads: kvHeads, rows: nk, cols: 8, bound: 1, using: &rng)
            let v: Tensor<Float> = InputDistribution.uniform.sample(
                heads: kvHeads, rows: nk, cols: 8, bound: 1, using: &rng)
            for (which, at) in [(Parameter.k, 0), (.k, k.count - 1), (.k, k.count / 2 + 3), (.v, 0), (.v, v.count - 1)]
            {
                var (k2, v2) = (k, v)
                if which == .k { k2[flat: at] = bad } else { v2[flat: at] = bad }
                #expect(throws: AttnError.usage(which, "\(which == .k ? "K" : "V") contains NaN or Inf")) {
                    _ = try FastAttention.compute(q: q, k: k2, v: v2, scale: .standard)
                }
            }
            // Top-left causal: a decode row sees key 0 only, yet a NaN in the last key is still refused
            // (the kernel's own flag covers only what it reads, so the full scan runs).
            var k4 = k
            k4[flat: k.count - 1] = bad
            #expect(throws: AttnError.usage(.k, "K contains NaN or Inf")) {
                _ = try FastAttention.compute(q: q, k: k4, v: v, scale: .standard, scoreModel: .causal(.topLeft))
            }
            // A zero query row still reads every key: 0·∞ is NaN.
            var k3 = k
            k3[flat: 5] = bad
            #expect(throws: AttnError.self) {
                _ = try FastAttention.compute(
                    q: Tensor(heads: q.heads, rows: 1, cols: 8), k: k3, v: v, scale: .standard)
            }
        }
    }
}
