import AttnCore
import AttnKernels
import AttnTestSupport
import CVectorMath
import Foundation
import PropertyBased
import Testing

/// The fast kernel and the reference compute the same real number two ways;
/// each has a proved a-priori bound (Proofs/online-softmax-error.md), so by the
/// triangle inequality |fast − reference| ≤ bound_fast + bound_reference.
@Suite("Fast kernel vs reference, within the documented forward-error bound")
struct FastVsReferenceTests {
    static func check<T: KernelScalar>(
        _ c: AttentionCase, _: T.Type, tiles: TileSizes = .default,
        isa: KernelISA = .auto
    ) throws -> (Double, Double) {
        let (q, k, v) = c.tensors(T.self)
        let fast = try FastAttention.compute(
            q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel, tiles: tiles, isa: isa)
        let ref = try ReferenceAttention.compute(q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel)
        let bf = ForwardErrorBound.fastAttention(
            q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel, tiles: tiles, as: T.self)
        let br = ForwardErrorBound.reference(q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel)
        var worstRatio = 0.0, worstError = 0.0
        for h in 0..<q.heads {
            for i in 0..<q.rows {
                let allowed = bf[h * q.rows + i] + br[h * q.rows + i]
                for j in 0..<v.cols {
                    let e = abs(Double(fast[h, i, j]) - ref[h, i, j])
                    let tracked: TrackedBound = T.self == Float.self ? .fastKernelFloat : .fastKernelDouble
                    #expect(
                        BoundLedger.shared.within(tracked, error: e, bound: allowed),
                        "\(c) at (\(h),\(i),\(j)): error \(e) > bound \(allowed)")
                    worstError = max(worstError, e)
                    if allowed > 0 { worstRatio = max(worstRatio, e / allowed) }
                }
            }
        }
        return (worstError, worstRatio)
    }

    @Test("Float32: fast within bound of reference (random shapes, scales, B up to 30, causal)")
    func float32() async throws {
        await propertyCheck(count: 150, input: AdversarialCase.generator()) { c in
            _ = try! Self.check(c, Float.self, tiles: TileSizes(queryTile: 7, keyTile: 5))
        }
    }

    @Test("Float64: fast within bound of reference")
    func float64() async throws {
        await propertyCheck(count: 150, input: AdversarialCase.generator()) { c in
            _ = try! Self.check(c, Double.self, tiles: TileSizes(queryTile: 4, keyTile: 9))
        }
    }

    /// Each ISA copy of the fused kernel (the baseline and AVX2 forced on an
    /// AVX-512 machine), on shapes spanning several 256-key tiles, ragged edges,
    /// d and d_v not multiples of any vector width.
    @Test("every ISA copy of the fused kernel is within the bound", arguments: KernelISA.allCases)
    func isaCopies(isa: KernelISA) async {
        await propertyCheck(count: 25, input: AttentionCase.generator(maxN: 600, maxD: 40)) { c in
            _ = try! Self.check(
                c, Float.self, tiles: TileSizes(queryTile: 37, keyTile: FastAttention.keyTile), isa: isa)
            _ = try! Self.check(c, Double.self, isa: isa)
        }
    }

    /// Decode over long contexts runs split-K (several key ranges merged);
    /// the bound counts the ranges and the merge (proof, "Split-K").
    @Test("split-K decode is within the bound", arguments: [KernelISA.auto, .baseline])
    func splitK(isa: KernelISA) async {
        let gen = zip(
            Gen.int(in: 1...3), Gen.int(in: 4096...12000), Gen.int(in: 1...16), Gen.double(in: -1...1.5),
            Gen.bool, Gen.int(in: 0...Int(Int32.max))
        )
        .map { h, nk, d, logB, causal, seed in
            AttentionCase(
                heads: h, nq: 1 + seed % 3, nk: nk, d: d, dv: 1 + d / 2, bound: Foundation.pow(10, logB),
                scale: .standard, causal: causal, seed: UInt64(seed))
        }
        await propertyCheck(count: 12, input: gen) { c in
            #expect(FastAttention.keySplits(queries: c.nq, keys: c.nk, heads: c.heads) > 1)
            _ = try! Self.check(c, Float.self, isa: isa)
            _ = try! Self.check(c, Double.self, isa: isa)
        }
    }

    @Test("d = d_v = 256, causal, several tiles, B = 3")
    func largeHeadDimension() throws {
        let c = AttentionCase(
            heads: 1, nq: 130, nk: 700, d: 256, dv: 256, bound: 3, scale: .standard, causal: true, seed: 5)
        let (err, ratio) = try Self.check(c, Float.self)
        #expect(err > 0 && ratio < 1)
        _ = try Self.check(c, Double.self)
    }

    @Test("huge scores do not overflow: B = 1000 gives finite, bounded outputs", arguments: [false, true])
    func hugeScores(causal: Bool) throws {
        let c = AttentionCase(
            heads: 2, nq: 33, nk: 70, d: 8, dv: 3, bound: 1000, scale: .standard, causal: causal, seed: 7)
        let (q, k, v) = c.tensors(Float.self)
        let fast = try FastAttention.compute(
            q: q, k: k, v: v, scale: c.scale, scoreModel: causal ? .causal() : .plain,
            tiles: TileSizes(queryTile: 8, keyTile: 16))
        #expect(fast.isFinite)
        _ = try Self.check(c, Float.self, tiles: TileSizes(queryTile: 8, keyTile: 16))
        _ = try Self.check(c, Double.self)
    }

    @Test("default tiles on a larger problem (several tiles each way)")
    func defaultTiles() throws {
        let c = AttentionCase(
            heads: 2, nq: 300, nk: 1100, d: 16, dv: 8, bound: 2, scale: .paper, causal: true, seed: 11)
        let (err, ratio) = try Self.check(c, Float.self)
        #expect(err > 0 && ratio < 1)
    }

    @Test(
        "the vectorised Float exp is within its documented relative error on [−87.3, 0]",
        arguments: [KernelISA?.none] + KernelISA.allCases.dropFirst().map { Optional($0) })
    func vectorExpFloatUlps(copy: KernelISA?) {
        // nil: Float.expShiftedSum (vector_math.c); else the fused kernel's copy for that ISA
        // (each compiled with or without FMA contraction, so each is checked).
        func exp(_ x: inout [Float], _ n: Int) {
            if let copy {
                _ = x.withUnsafeMutableBufferPointer { attnbound_fused_exp_f32(copy.rawValue, $0.baseAddress!, n) }
            } else {
                _ = Float.expShiftedSum(&x, count: n, shift: 0)
            }
        }
        // Every 97th float in [−87.3, 0] (≈ 11 M points), against Float64 exp.
        var x: Float = -87.3
        var worst = 0.0
        var buffer = [Float](repeating: 0, count: 4096)
        var inputs = [Float](repeating: 0, count: 4096)
        while x < 0 {
            var n = 0
            while n < 4096, x < 0 {
                inputs[n] = x
                n += 1
                x = Float(bitPattern: x.bitPattern &- 97)
            }
            for i in 0..<n { buffer[i] = inputs[i] }
            exp(&buffer, n)
            for i in 0..<n {
                let exact = Foundation.exp(Double(inputs[i]))
                worst = max(worst, abs(Double(buffer[i]) - exact) / exact)
            }
        }
        #expect(worst <= Float.expRelativeError, "worst relative error \(worst)")
        #expect(worst >= 0x1p-25, "a suspiciously perfect exp: \(worst)")
        var zero: [Float] = [0, -.infinity, -200]
        exp(&zero, 3)
        #expect(zero == [1, 0, 0])
    }

    @Test("results do not depend on the thread count")
    func threadIndependence() throws {
        let c = AttentionCase(
            heads: 3, nq: 200, nk: 150, d: 8, dv: 5, bound: 3, scale: .standard, causal: false, seed: 3)
        let (q, k, v) = c.tensors(Float.self)
        let tiles = TileSizes(queryTile: 16, keyTile: 32)
        let one = try FastAttention.compute(q: q, k: k, v: v, scale: c.scale, tiles: tiles, threads: 1)
        let two = try FastAttention.compute(q: q, k: k, v: v, scale: c.scale, tiles: tiles, threads: 2)
        #expect(one == two)
    }

    @Test("a reference problem beyond memory is infeasible (exit 3), not a crash")
    func referenceTooLarge() {
        let n = 300_000  // 300k × 300k Float64 weights = 720 GB
        let q = Tensor<Float>(rows: n, cols: 1), v = Tensor<Float>(rows: n, cols: 1)
        do {
            _ = try ReferenceAttention.compute(q: q, k: q, v: v, scale: .paper)
            Issue.record("accepted")
        } catch let e as AttnError {
            #expect(e.exitCode == 3 && e.message.contains("memory"))
        } catch { Issue.record("\(error)") }
    }

    @Test("bad inputs are usage errors, not crashes")
    func badInputs() {
        let q = Tensor<Float>(rows: 3, cols: 4), k = Tensor<Float>(rows: 5, cols: 4),
            v = Tensor<Float>(rows: 5, cols: 2)
        #expect(throws: AttnError.self) {
            try FastAttention.compute(q: q, k: Tensor<Float>(rows: 5, cols: 3), v: v, scale: .paper)
        }
        #expect(throws: AttnError.self) {
            try FastAttention.compute(q: q, k: k, v: Tensor<Float>(rows: 4, cols: 2), scale: .paper)
        }
        var bad = q
        bad[flat: 2] = .nan
        #expect(throws: AttnError.self) { try FastAttention.compute(q: bad, k: k, v: v, scale: .paper) }
        #expect(throws: AttnError.self) { try ReferenceAttention.compute(q: bad, k: k, v: v, scale: .paper) }
    }
}
