import AttnCertified
import AttnCore
import Foundation
import Testing

/// Several candidates against one truth: each gets exactly the verdict a verify of it alone gets,
/// and the accuracy figures mean what they say on candidates built to be correctly rounded, one
/// ulp off, or widened bf16.
@Suite struct KernelAccuracyTests {
    /// Q, K, V [2, 8, 4] (float16 values) and the truth's enclosure midpoint.
    static func problem() throws -> (Tensor<Double>, Tensor<Double>, Tensor<Double>, [Double]) {
        let (q, k, v): (Tensor<Double>, Tensor<Double>, Tensor<Double>) = InputDistribution.uniform.attentionInputs(
            heads: 2, queries: 8, keys: 8, d: 4, seed: 11)
        func half(_ t: Tensor<Double>) -> Tensor<Double> {
            Tensor(heads: t.heads, rows: t.rows, cols: t.cols, storage: t.storage.map { Double(Float16($0)) })
        }
        let (hq, hk, hv) = (half(q), half(k), half(v))
        let c = try CertifiedAttention.compute(q: hq, k: hk, v: hv, scale: .standard)
        return (hq, hk, hv, (0..<c.lower.count).map { (c.lower[flat: $0] + c.upper[flat: $0]) / 2 })
    }

    static func tensor(_ xs: [Double]) -> Tensor<Double> { Tensor(heads: 2, rows: 8, cols: 4, storage: xs) }

    @Test func candidatesShareOneTruthAndMatchSingleVerifies() throws {
        let (q, k, v, mid) = try Self.problem()
        let f16 = StorageType.float16.format
        let rounded = mid.map { f16.roundToNearest($0) }
        var off = rounded
        off[5] = f16.roundUp(rounded[5].nextUp)  // one ulp above RN(y)
        let candidates = [rounded, off, mid].map { VerifyCandidate(Self.tensor($0), format: f16) }
        let options = VerifyOptions(atol: 1e-3)
        let all = try TieredVerification.run(
            q: q, k: k, v: v, candidates: candidates, scale: .standard, scoreModel: .plain, options: options)
        for (i, c) in candidates.enumerated() {
            let alone = try TieredVerification.run(
                q: q, k: k, v: v, candidate: c.values, scale: .standard, scoreModel: .plain, options: options)
            #expect(all[i].verification == alone)
        }
        let a = all[0].accuracy!, b = all[1].accuracy!
        #expect(a.entries == 64 && a.correctlyRounded + a.undecided == 64 && a.faithful == 64)
        #expect(b.correctlyRounded + b.undecided == 63 && b.faithful + 1 >= 63)
        // RN(y) is the floor itself: its ratio interval holds 1; one ulp off is above it.
        let ra = a.floorRatio(maxErrorBound: all[0].verification.maxErrorBound)
        #expect(ra.lo <= 1 && 1 <= ra.hi * (1 + 1e-12))
        #expect(b.floorRatio(maxErrorBound: all[1].verification.maxErrorBound).lo > 1)
        #expect(a.ulpHistogram[0] == 64)
        #expect(a.floorLower <= a.floorUpper && a.floorUpper <= f16.ulp(at: 1) / 2)
    }

    @Test func requestReadsBf16SavedAsFloat32AndRefusesOtherValues() throws {
        let (q, k, v, mid) = try Self.problem()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kacc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bf = StorageType.bfloat16.format
        let file = dir.appendingPathComponent("run.safetensors").path
        let data = try Safetensors.encode([
            ("q", q, .float16), ("k", k, .float16), ("v", v, .float16),
            ("o_bf16", Self.tensor(mid.map { bf.roundToNearest($0) }), .bfloat16),
            ("o_widened", Self.tensor(mid.map { bf.roundToNearest($0) }), .float32),
            ("o_fp32", Self.tensor(mid), .float32),
        ])
        try data.write(to: URL(fileURLWithPath: file))
        var r = VerifyRequest(files: TensorFiles(file: file))
        r.maxFloorRatio = 2
        let results = try r.evaluate()
        #expect(results.map(\.entry.label) == ["bf16", "fp32", "widened"])
        #expect(results.map(\.type) == [.bfloat16, .float32, .float32])
        #expect(results[0].verification == results[2].verification)
        #expect(results[0].accuracy.correctlyRounded + results[0].accuracy.undecided == 64)
        // Judged as bf16, the widened copy is the bf16 one; the float32 truth is not bf16.
        r.candidates = ["w=\(file):o_widened"]
        r.candidateType = .bfloat16
        let w = try r.evaluate()
        #expect(w[0].entry.label == "w" && w[0].type == .bfloat16 && w[0].accuracy == results[0].accuracy)
        r.candidates = ["\(file):o_fp32"]
        #expect(throws: AttnError.self) { try r.evaluate() }
        r.candidateType = nil
        let report = r.report(try r.evaluate())
        #expect(report.failure == nil || report.failure?.kind == .checkFailed)
    }

    @Test func defaultToleranceOnFloat16PointsToTheFloorRatio() throws {
        let (q, k, v, mid) = try Self.problem()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kacc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("run.npz").path
        let f16 = StorageType.float16.format
        let o = Self.tensor(mid.map { f16.roundToNearest($0) })
        let st = dir.appendingPathComponent("run.safetensors").path
        try Safetensors.encode([("q", q, .float16), ("k", k, .float16), ("v", v, .float16), ("o", o, .float16)])
            .write(to: URL(fileURLWithPath: st))
        _ = file
        let plain = try VerifyRequest(files: TensorFiles(file: st)).run()
        #expect(plain.failure?.kind == .checkFailed)
        #expect(plain.text.contains { $0.contains("FlashAttention's rule") })
        #expect(plain.pointers == [.maxFloorRatio, .tolerance, .atol, .rtol])
        #expect(!plain.text.contains { $0.contains("--") })  // the library names no flag
        var ratio = VerifyRequest(files: TensorFiles(file: st))
        ratio.maxFloorRatio = 1.5
        #expect(try ratio.run().failure == nil)
    }
}
