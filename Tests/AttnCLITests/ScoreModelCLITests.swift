import AttnCore
import Foundation
import Testing

/// The score model's flags (`--causal`, `--align`, `--window`, `--mask`, `--bias`, `--alibi`, `--softcap`,
/// `--sinks`) end to end through `attention`, `verify` and `vectors`, and `attention --lse-out`.
@Suite struct ScoreModelCLITests {
    /// Two heads, n_q = 4 < n_k = 8, d = 4 (float32, uniform [−2, 2]) and the model's files: a [4, 8] mask
    /// whose row 1 is fully masked, a [2, 4, 8] bias, sinks [2]; and the bad files of the usage errors.
    static func problem(in dir: URL) throws {
        var g = Xoshiro256StarStar(seed: 20)
        for (name, rows) in [("q", 4), ("k", 8), ("v", 8)] {
            let t: Tensor<Float> = InputDistribution.uniform.sample(heads: 2, rows: rows, cols: 4, bound: 2, using: &g)
            try Npy.write(t, to: dir.appendingPathComponent("\(name).npy").path)
        }
        let visible = (0..<32).map { $0 / 8 != 1 && $0 % 3 != 2 }
        let mask = try ScoreGrid(shape: [4, 8], values: visible, parameter: .mask)
        try Npy.encodeMask(mask).write(to: dir.appendingPathComponent("mask.npy"))
        let bias = (0..<64).map { Double($0 % 7) / 4 - 0.75 }
        func write(_ name: String, _ values: [Double], _ shape: [Int]) throws {
            let t =
                shape.count == 1
                ? Tensor(rows: 1, cols: shape[0], storage: values, logicalRank: 1)
                : shape.count == 2
                    ? Tensor(rows: shape[0], cols: shape[1], storage: values)
                    : Tensor(heads: shape[0], rows: shape[1], cols: shape[2], storage: values)
            try Npy.write(t, to: dir.appendingPathComponent("\(name).npy").path)
        }
        try write("bias", bias, [2, 4, 8])
        try write("sinks", [1.5, -3], [2])
        try write("bias_wide", [Double](repeating: 0, count: 24), [3, 8])  // n_q axis 3 ≠ 4
        try write("bias_nan", bias.enumerated().map { $0 == 5 ? .nan : $1 }, [2, 4, 8])
        try write("bias_inf", bias.enumerated().map { $0 == 9 ? -.infinity : $1 }, [2, 4, 8])
        try write("sinks_nan", [0, .nan], [2])
        try write("sinks_inf", [.infinity, 0], [2])
        try write("sinks_three", [0, 1, 2], [3])
        try write("mask_float", [Double](repeating: 1, count: 32), [4, 8])  // float64: not a mask dtype
        let wide = try ScoreGrid(shape: [5, 8], values: [Bool](repeating: true, count: 40), parameter: .mask)
        try Npy.encodeMask(wide).write(to: dir.appendingPathComponent("mask_wide.npy"))
    }

    static let qkv = ["--q", "q.npy", "--k", "k.npy", "--v", "v.npy"]

    /// Each bad model is one line naming its flag, exit 2, and no output file, from every command.
    @Test func badModelsAreOneLineUsageErrors() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.problem(in: dir)
        #expect(try CLIRunner.run(["attention"] + Self.qkv + ["--out", "o.npy"], cwd: dir).status == 0)
        let bad: [([String], String)] = [
            (["--bias", "bias_wide.npy"], "--bias"), (["--mask", "mask_wide.npy"], "--mask"),
            (["--sinks", "sinks_three.npy"], "--sinks"), (["--alibi", "1,2,3"], "--alibi"),
            (["--bias", "bias_nan.npy"], "--bias"), (["--bias", "bias_inf.npy"], "--bias"),
            (["--alibi", "0.5,nan"], "--alibi"), (["--alibi", "-inf,1"], "--alibi"),
            (["--sinks", "sinks_nan.npy"], "--sinks"), (["--sinks", "sinks_inf.npy"], "--sinks"),
            (["--window", "-1,0"], "--window"), (["--window", "2,-3"], "--window"), (["--window", "4"], "--window"),
            (["--softcap", "0"], "--softcap"), (["--softcap", "-2"], "--softcap"), (["--softcap", "nan"], "--softcap"),
            (["--softcap", "inf"], "--softcap"), (["--mask", "mask_float.npy"], "--mask"),
            (["--align", "middle"], "--align"),
        ]
        for (flags, flag) in bad {
            let runs: [(String, [String])] = [
                ("x.npy", ["attention"] + Self.qkv + flags + ["--out", "x.npy", "--lse-out", "xl.npy"]),
                ("x.json", ["verify"] + Self.qkv + flags + ["--candidate", "o.npy", "--out", "x.json"]),
                ("vec", ["vectors", "--out", "vec", "--precision", "96"] + flags + ["--case-shape", "2,4,8,4"]),
            ]
            for (out, args) in runs {
                let r = try CLIRunner.run(args, cwd: dir)
                let lines = r.stderr.split(separator: "\n")
                #expect(r.status == 2 && lines.count == 1 && r.stdout.isEmpty, "\(args): \(r.stderr)")
                #expect(lines.first?.hasPrefix("error: ") == true && r.stderr.contains(flag), "\(args): \(r.stderr)")
                for leftover in [out, "xl.npy"] {
                    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(leftover).path))
                }
            }
        }
    }

    /// PyTorch's `is_causal` with n_q < n_k (top-left) and a mask with a fully masked row: `attention` writes
    /// the output and its LSE (0 and −∞ on the masked row), `verify` certifies both and counts the row per
    /// head; the same output read bottom-right (FlashAttention's convention) fails.
    @Test func topLeftCausalWithMaskedRowsRoundTrips() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.problem(in: dir)
        let model = ["--causal", "--align", "top-left", "--mask", "mask.npy"]
        let a = try CLIRunner.run(
            ["attention"] + Self.qkv + model + ["--out", "o.npy", "--lse-out", "l.npy"], cwd: dir)
        #expect(a.status == 0, "\(a.stderr)")
        let o: Tensor<Double> = try Npy.read(dir.appendingPathComponent("o.npy").path)
        let l: Tensor<Double> = try Npy.read(dir.appendingPathComponent("l.npy").path)
        #expect(l.shape == [2, 4] && o.shape == [2, 4, 4])
        for h in 0..<2 {
            #expect(l[0, h, 1] == -.infinity && (0..<4).allSatisfy { o[h, 1, $0] == 0 })
            #expect([0, 2, 3].allSatisfy { l[0, h, $0].isFinite })
        }
        let v = try CLIRunner.run(
            ["verify"] + Self.qkv + model + ["--candidate", "o.npy", "--lse-candidate", "l.npy", "--json"], cwd: dir)
        #expect(v.status == 0, "\(v.stdout) \(v.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(v.stdout.utf8)) as! [String: Any]
        let lse = obj["lse"] as! [String: Any]
        #expect(obj["masked_rows"] as? Int == 2 && lse["failing"] as? Int == 0 && lse["undecided"] as? Int == 0)
        let bottomRight = try CLIRunner.run(
            ["verify"] + Self.qkv + ["--causal", "--mask", "mask.npy", "--candidate", "o.npy"], cwd: dir)
        #expect(bottomRight.status == 1, "\(bottomRight.stdout)")
    }

    /// Every term at once (window, softcap, bias, ALiBi, sinks), through both kernels and `verify`.
    @Test func everyTermRoundTrips() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.problem(in: dir)
        let model = [
            "--window", "3,1", "--softcap", "2.5", "--bias", "bias.npy", "--alibi", "0.5,0.125", "--sinks", "sinks.npy",
        ]
        for kernel in ["fast", "reference"] {
            let a = try CLIRunner.run(
                ["attention"] + Self.qkv + model + ["--kernel", kernel, "--out", "o.npy", "--lse-out", "l.npy"],
                cwd: dir)
            #expect(a.status == 0, "\(a.stderr)")
            let v = try CLIRunner.run(
                ["verify"] + Self.qkv + model + ["--candidate", "o.npy", "--lse-candidate", "l.npy", "--json"], cwd: dir
            )
            #expect(v.status == 0, "\(kernel): \(v.stdout) \(v.stderr)")
            let plain = try CLIRunner.run(["verify"] + Self.qkv + ["--candidate", "o.npy"], cwd: dir)
            #expect(plain.status == 1, "\(kernel): the terms change the output")
        }
        let lseOnly = try CLIRunner.run(["attention"] + Self.qkv + model + ["--lse-out", "l2.npy"], cwd: dir)
        #expect(
            lseOnly.status == 0 && FileManager.default.fileExists(atPath: dir.appendingPathComponent("l2.npy").path))
    }

    /// `vectors` with model flags adds a `custom` case under that model; its `verify_args` replay it.
    @Test func vectorsWritesTheCustomCase() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.problem(in: dir)
        let r = try CLIRunner.run(
            [
                "vectors", "--out", "vec", "--precision", "96", "--causal", "--align", "top-left", "--mask",
                "mask.npy", "--softcap", "3", "--sinks", "sinks.npy", "--json",
            ], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let c = dir.appendingPathComponent("vec/custom")
        let meta =
            try JSONSerialization.jsonObject(with: Data(contentsOf: c.appendingPathComponent("case.json")))
            as! [String: Any]
        #expect(meta["q_shape"] as? [Int] == [2, 4, 4] && meta["k_shape"] as? [Int] == [2, 8, 4])
        let args = meta["verify_args"] as! [String]
        #expect(args.contains("--mask") && args.contains("--sinks") && args.contains("top-left"))
        let v = try CLIRunner.run(
            ["verify", "--q", "q.npy", "--k", "k.npy", "--v", "v.npy", "--candidate", "lo.npy", "--tolerance", "1e-9"]
                + args, cwd: c)
        #expect(v.status == 0, "\(v.stdout) \(v.stderr)")
        let shaped = try CLIRunner.run(
            ["vectors", "--out", "vec2", "--precision", "96", "--window", "2,0", "--case-shape", "2,1,6,10,3"],
            cwd: dir)
        #expect(shaped.status == 0, "\(shaped.stderr)")
        let lo: Tensor<Double> = try Npy.read(dir.appendingPathComponent("vec2/custom/lo.npy").path)
        let lse: Tensor<Double> = try Npy.read(dir.appendingPathComponent("vec2/custom/lse_lo.npy").path)
        #expect(lo.shape == [2, 1, 6, 3] && lse.shape == [2, 1, 6])
    }
}
