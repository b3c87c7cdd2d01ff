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
        let r = try CLIRunner.run([
            "attention", "--q", dir.appendingPathComponent("q.npy").path,
            "--k", dir.appendingPathComponent("k.npy").path,
            "--v", dir.appendingPathComponent("v.npy").path,
            "--precision", "float64", "--causal", "--out", out,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let o: Tensor<Double> = try Npy.read(out)
        #expect(o.shape == [2, 4, 3, 5])
        // Each query head against its KV head, one head at a time.
        for f in 0..<8 {
            let g = f / 2
            let want = try attention(
                q: q.head(f), k: k.head(g), v: v.head(g), scale: .standard, scoreModel: .causal(),
                kernel: .reference)
            #expect(ErrorMetrics.maxAbsDiff(o.head(f), want) < 1e-12, "head \(f)")
        }
        // K heads that do not divide Q heads: exit 2 naming the mismatch, no output.
        try Npy.write(t(2, 3, 6, 8), to: dir.appendingPathComponent("k3.npy").path)
        let bad = try CLIRunner.run([
            "attention", "--q", dir.appendingPathComponent("q.npy").path,
            "--k", dir.appendingPathComponent("k3.npy").path,
            "--v", dir.appendingPathComponent("v.npy").path, "--out", out + "2",
        ])
        #expect(bad.status == 2 && bad.stderr.hasPrefix("error: ") && bad.stderr.contains("heads"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "2"))
    }
}

extension TorchShapesCLITests {
    @Test(
        "verify accepts a float32 4-D GQA output and rejects a perturbed one naming batch, head, row and col; shards merge"
    )
    func verify4DGQA() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = Xoshiro256StarStar(seed: 9)
        func t(_ b: Int, _ h: Int, _ r: Int, _ c: Int) -> Tensor<Float> {
            Tensor(
                heads: b * h, rows: r, cols: c, storage: (0..<b * h * r * c).map { _ in Float(rng.uniform(-2, 2)) },
                logicalRank: 4, batch: b, headsPerBatch: h)
        }
        for (name, x) in [("q", t(2, 4, 9, 8)), ("k", t(2, 2, 11, 8)), ("v", t(2, 2, 11, 3))] {
            try Npy.write(x, to: dir.appendingPathComponent("\(name).npy").path)
        }
        let qkv = ["--q", "q.npy", "--k", "k.npy", "--v", "v.npy"]
        let made = try CLIRunner.run(
            ["attention"] + qkv + ["--precision", "float32", "--causal", "--out", "o.npy"], cwd: dir)
        #expect(made.status == 0, "\(made.stderr)")
        let ok = try CLIRunner.run(
            ["verify"] + qkv + ["--causal", "--candidate", "o.npy", "--atol", "1e-6", "--rtol", "1e-5"], cwd: dir)
        #expect(ok.status == 0 && ok.stdout.contains("PASS"), "\(ok.stdout) \(ok.stderr)")
        var o: Tensor<Float> = try Npy.read(dir.appendingPathComponent("o.npy").path)
        #expect(o.shape == [2, 4, 9, 3])
        o[1 * 4 + 2, 7, 1] += 1e-3  // batch 1, head 2, row 7, col 1
        try Npy.write(o, to: dir.appendingPathComponent("bad.npy").path)
        let bad = try CLIRunner.run(
            ["verify"] + qkv + ["--causal", "--candidate", "bad.npy", "--tolerance", "1e-5", "--json"], cwd: dir)
        #expect(bad.status == 1)
        let obj = try JSONSerialization.jsonObject(with: Data(bad.stdout.utf8)) as! [String: Any]
        #expect(
            obj["batch"] as? Int == 1 && obj["head"] as? Int == 2 && obj["row"] as? Int == 7 && obj["col"] as? Int == 1,
            "\(obj)")
        #expect(obj["failing_entries"] as? Int == 1 && obj["passed"] as? Bool == false)
        let text = try CLIRunner.run(
            ["verify"] + qkv + ["--causal", "--candidate", "bad.npy", "--tolerance", "1e-5"], cwd: dir)
        #expect(
            text.status == 1 && text.stdout.contains("batch 1, head 2, row 7, col 1") && text.stdout.contains("FAIL"))
        // Two shards, merged, give the same verdict as the whole.
        for (i, r) in ["0:3", "3:4"].enumerated() {
            let s = try CLIRunner.run(
                ["verify"] + qkv + [
                    "--causal", "--candidate", "bad.npy", "--tolerance", "1e-5",
                    "--heads", r, "--json",
                ], cwd: dir)
            try s.stdout.write(to: dir.appendingPathComponent("part\(i).json"), atomically: true, encoding: .utf8)
        }
        let merged = try CLIRunner.run(["verify-merge", "part0.json", "part1.json", "--json"], cwd: dir)
        #expect(merged.status == 1)
        let m = try JSONSerialization.jsonObject(with: Data(merged.stdout.utf8)) as! [String: Any]
        #expect(m["head"] as? Int == 2 && m["row"] as? Int == 7 && m["entries"] as? Int == 2 * 4 * 9 * 3)
        // Error exits: a bad head range, a wrong-shaped candidate, conflicting tolerances, a bad engine.
        for args in [
            ["--heads", "3:9"], ["--heads", "2:1"], ["--atol", "1", "--tolerance", "1"], ["--engine", "gpu"],
        ] {
            let r = try CLIRunner.run(["verify"] + qkv + ["--candidate", "o.npy"] + args, cwd: dir)
            #expect(r.status == 2 && r.stderr.hasPrefix("error: "), "\(args): \(r.stderr)")
        }
        try Npy.write(t(2, 4, 9, 2), to: dir.appendingPathComponent("wrong.npy").path)
        let wrong = try CLIRunner.run(["verify"] + qkv + ["--candidate", "wrong.npy"], cwd: dir)
        #expect(wrong.status == 2 && wrong.stderr.contains("wrong.npy"), "\(wrong.stderr)")
    }
}
