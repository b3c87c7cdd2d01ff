import AttnCore
import AttnKernels
import Foundation
import Testing

/// PyTorch-shaped files through the commands that read tensors: 4-D, float16, GQA.
@Suite("CLI: PyTorch-shaped inputs")
struct TorchShapesCLITests {
    @Test("attention reads 4-D float16 GQA inputs, uses KV head h / group, and writes [batch, heads, n_q, d_v]")
    func attention4DGQA() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = Xoshiro256StarStar(seed: 7)
        func t(_ b: Int, _ h: Int, _ r: Int, _ c: Int) -> Tensor<Double> {
            let s = (0..<b * h * r * c).map { _ in Double(Float16(rng.uniform(-2, 2))) }
            return Tensor(heads: b * h, rows: r, cols: c, storage: s, logicalRank: 4, batch: b, headsPerBatch: h)
        }
        let (q, k, v) = (t(2, 4, 3, 8), t(2, 2, 6, 8), t(2, 2, 6, 5))
        for (name, x) in [("q", q), ("k", k), ("v", v)] {
            try Npy.write(x, to: dir.appendingPathComponent("\(name).npy").path, dtype: .float16)
        }
        let out = dir.appendingPathComponent("o.npy").path
        let r = try CLIRunner.run(["attention", "--q", dir.appendingPathComponent("q.npy").path,
                                   "--k", dir.appendingPathComponent("k.npy").path,
                                   "--v", dir.appendingPathComponent("v.npy").path,
                                   "--precision", "float64", "--causal", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let o: Tensor<Double> = try Npy.read(out)
        #expect(o.shape == [2, 4, 3, 5])
        // Each query head against its KV head, one head at a time.
        for f in 0..<8 {
            let g = f / 2
            let want = try attention(q: q.head(f), k: k.head(g), v: v.head(g), scale: .standard, causal: true,
                                     kernel: .reference)
            #expect(ErrorMetrics.maxAbsDiff(o.head(f), want) < 1e-12, "head \(f)")
        }
        // K heads that do not divide Q heads: exit 2 naming the mismatch, no output.
        try Npy.write(t(2, 3, 6, 8), to: dir.appendingPathComponent("k3.npy").path)
        let bad = try CLIRunner.run(["attention", "--q", dir.appendingPathComponent("q.npy").path,
                                     "--k", dir.appendingPathComponent("k3.npy").path,
                                     "--v", dir.appendingPathComponent("v.npy").path, "--out", out + "2"])
        #expect(bad.status == 2 && bad.stderr.hasPrefix("error: ") && bad.stderr.contains("heads"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "2"))
    }
}
