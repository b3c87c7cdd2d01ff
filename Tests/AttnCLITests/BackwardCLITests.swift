import AttnCore
import Foundation
import Testing

/// `attention --do` and `verify --do` end to end through the built binary, error exits included.
@Suite struct BackwardCLITests {
    /// A random Float32 problem with dO (12 × 4, d_v 3), and the fused kernel's gradients via `attention --do`.
    static func problem(in dir: URL, seed: UInt64, causal: Bool = false) throws {
        var g = Xoshiro256StarStar(seed: seed)
        for (name, cols) in [("q", 4), ("k", 4), ("v", 3), ("do", 3)] {
            let t: Tensor<Float> = InputDistribution.uniform.sample(rows: 12, cols: cols, bound: 2, using: &g)
            try Npy.write(t, to: dir.appendingPathComponent("\(name).npy").path)
        }
        let r = try CLIRunner.run(
            ["attention"] + qkv + (causal ? ["--causal"] : [])
                + ["--do", "do.npy", "--dq-out", "dq.npy", "--dk-out", "dk.npy", "--dv-out", "dv.npy"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
    }

    static let qkv = ["--q", "q.npy", "--k", "k.npy", "--v", "v.npy", "--scale", "standard"]
    static let grads = [
        "--do", "do.npy", "--dq-candidate", "dq.npy", "--dk-candidate", "dk.npy", "--dv-candidate", "dv.npy",
    ]

    @Test(
        "the fused kernel's gradients certify; a moved entry fails and is located in `gradients`",
        arguments: [false, true])
    func gradientsCertifyAndFailuresAreLocated(causal: Bool) throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.problem(in: dir, seed: 5, causal: causal)
        let mask = causal ? ["--causal"] : []
        let ok = try CLIRunner.run(["verify"] + Self.qkv + mask + Self.grads + ["--atol", "1e-5"], cwd: dir)
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        #expect(ok.stdout.contains("dq (dq.npy):") && ok.stdout.contains("PASS"))
        var dk: Tensor<Float> = try Npy.read(dir.appendingPathComponent("dk.npy").path)
        dk[0, 7, 2] += 1e-2
        try Npy.write(dk, to: dir.appendingPathComponent("dk.npy").path)
        let bad = try CLIRunner.run(["verify"] + Self.qkv + mask + Self.grads + ["--atol", "1e-5", "--json"], cwd: dir)
        #expect(bad.status == 1, "\(bad.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(bad.stdout.utf8)) as! [String: Any]
        let g = obj["gradients"] as! [String: [String: Any]]
        #expect(Set(g.keys) == ["dq", "dk", "dv"])
        #expect(g["dk"]?["row"] as? Int == 7 && g["dk"]?["col"] as? Int == 2 && g["dk"]?["failing"] as? Int == 1)
        #expect(g["dq"]?["failing"] as? Int == 0 && g["dv"]?["undecided"] as? Int == 0)
        for key in ["max_error_bound", "batch", "head", "row", "col", "failing", "undecided"] {
            #expect(g["dq"]?[key] != nil, "\(key)")
        }
    }

    @Test("--candidate beside gradients: the output's report with `gradients` added")
    func outputAndGradientsTogether() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.problem(in: dir, seed: 6)
        let o = try CLIRunner.run(["attention"] + Self.qkv + ["--out", "o.npy"], cwd: dir)
        #expect(o.status == 0)
        let r = try CLIRunner.run(
            ["verify"] + Self.qkv + [
                "--candidate", "o.npy", "--do", "do.npy", "--dv-candidate", "dv.npy", "--atol", "1e-5", "--json",
            ],
            cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(obj["max_error_bound"] != nil && (obj["gradients"] as? [String: Any])?.keys.sorted() == ["dv"])
    }

    @Test("bad gradient inputs: one line naming the flag, exit 2, no output file")
    func errorExits() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.problem(in: dir, seed: 7)
        try Npy.write(Tensor<Float>(rows: 12, cols: 4), to: dir.appendingPathComponent("wide.npy").path)
        let cases: [([String], String)] = [
            (["verify"] + Self.qkv + ["--do", "do.npy"], "--do"),
            (["verify"] + Self.qkv + ["--dq-candidate", "dq.npy"], "--do"),
            (["verify"] + Self.qkv, "--candidate"),
            (["verify"] + Self.qkv + ["--do", "wide.npy", "--dq-candidate", "dq.npy"], "--do"),
            (["verify"] + Self.qkv + ["--do", "do.npy", "--dv-candidate", "dq.npy"], "--dv-candidate"),
            (["verify"] + Self.qkv + ["--do", "missing.npy", "--dq-candidate", "dq.npy"], "--do"),
            (["attention"] + Self.qkv + ["--do", "wide.npy", "--dq-out", "x.npy"], "--do"),
            (["attention"] + Self.qkv + ["--dq-out", "x.npy"], "--do"),
            (["attention"] + Self.qkv + ["--do", "do.npy", "--dq-out", "nowhere/x.npy"], "--dq-out"),
        ]
        for (args, flag) in cases {
            let r = try CLIRunner.run(args, cwd: dir)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            #expect(
                r.stderr.hasPrefix("error: \(flag)") && r.stderr.split(separator: "\n").count == 1,
                "\(args): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.npy").path))
    }

    @Test("bench exact --backward times the fused backward: its JSON says so, and writes dO beside Q, K, V for peers")
    func benchExactBackward() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLIRunner.run(
            [
                "bench", "exact", "--backward", "--n", "64", "--d", "8", "--runs", "1", "--json", "--inputs-out",
                dir.path,
            ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"backward\":true"), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("do_n64_q64_d8.npy").path))
    }
}
