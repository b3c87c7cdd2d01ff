import AttnCore
import Foundation
import PropertyBased
import Testing

/// `attnbound verify`, `vectors`, `bench certified` end to end through the built binary.
@Suite struct CertifiedCLITests {
    /// Writes a random Float32 problem and the fast kernel's Float32 output (via `attnbound attention`).
    static func problem(in dir: URL, seed: UInt64, n: Int = 12, d: Int = 4, dv: Int = 3) throws {
        var g = Xoshiro256StarStar(seed: seed)
        for (name, cols) in [("q", d), ("k", d), ("v", dv)] {
            let t: Tensor<Float> = InputDistribution.uniform.sample(rows: n, cols: cols, bound: 2, using: &g)
            try Npy.write(t, to: dir.appendingPathComponent("\(name).npy").path)
        }
        let r = try CLIRunner.run(
            [
                "attention", "--q", "q.npy", "--k", "k.npy", "--v", "v.npy", "--scale", "standard",
                "--precision", "float32", "--out", "o.npy",
            ], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
    }

    static let qkv = ["--q", "q.npy", "--k", "k.npy", "--v", "v.npy", "--scale", "standard"]

    /// An honest Float32 output passes (exit 0); one entry moved by 1e-3 fails
    /// (exit 1) and the JSON names that entry.
    @Test func verifyAcceptsHonestAndRejectsPerturbed() async throws {
        await propertyCheck(count: 3, input: zip(Gen.int(in: 0...Int.max), Gen.int(in: 0...35))) { seed, e in
            let dir = try! CLIRunner.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            try! Self.problem(in: dir, seed: UInt64(seed))
            let ok = try! CLIRunner.run(
                ["verify"] + Self.qkv + ["--candidate", "o.npy", "--tolerance", "1e-6"], cwd: dir)
            #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
            #expect(ok.stdout.contains("PASS"))

            var o: Tensor<Float> = try! Npy.read(dir.appendingPathComponent("o.npy").path)
            o[flat: e] += 1e-3
            try! Npy.write(o, to: dir.appendingPathComponent("bad.npy").path)
            let bad = try! CLIRunner.run(["verify"] + Self.qkv + ["--candidate", "bad.npy", "--json"], cwd: dir)
            #expect(bad.status == 1)
            let line = bad.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(!line.contains("\n"))
            let obj = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            #expect(obj["row"] as? Int == e / 3 && obj["col"] as? Int == e % 3 && obj["head"] as? Int == 0)
            #expect(obj["passed"] as? Bool == false)
            #expect((obj["max_error_bound"] as? Double ?? 0) >= 0.9e-3)
            for key in ["tolerance", "precision_bits", "scale", "max_width_bound", "engine", "rows_float"] {
                #expect(obj[key] != nil, "\(key)")
            }
        }
    }

    @Test func verifyRejectsBadInputWithExit2() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.problem(in: dir, seed: 7)
        try Npy.write(Tensor<Float>(rows: 12, cols: 2), to: dir.appendingPathComponent("wrong.npy").path)
        let shape = try CLIRunner.run(["verify"] + Self.qkv + ["--candidate", "wrong.npy"], cwd: dir)
        #expect(shape.status == 2 && shape.stderr.hasPrefix("error: ") && shape.stderr.contains("wrong.npy"))
        let missing = try CLIRunner.run(["verify"] + Self.qkv + ["--candidate", "nope.npy"], cwd: dir)
        #expect(missing.status == 2)
        let precision = try CLIRunner.run(
            ["verify"] + Self.qkv + ["--candidate", "o.npy", "--precision", "3"], cwd: dir)
        #expect(precision.status == 2)
        let scale = try CLIRunner.run(
            [
                "verify", "--q", "q.npy", "--k", "k.npy", "--v", "v.npy", "--scale", "-1",
                "--candidate", "o.npy",
            ], cwd: dir)
        #expect(scale.status == 2)
    }

    /// `vectors` writes every case folder and an index; lo ≤ hi; no temp files left.
    @Test func vectorsWritesTheSet() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLIRunner.run(["vectors", "--out", "vec", "--precision", "96", "--json"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let out = dir.appendingPathComponent("vec")
        let index =
            try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("index.json")))
            as! [String: Any]
        let cases = index["cases"] as! [[String: Any]]
        let names = Set(cases.map { $0["name"] as! String })
        for required in [
            "near_tie", "dominant_key", "huge_scores", "subnormal_inputs", "cancellation_in_v",
            "single_key", "head_dim_1", "scale_paper", "scale_standard", "causal", "causal_top_left",
            "causal_empty_rows", "window_edges", "explicit_mask", "softcap_huge_scores", "alibi_steep",
            "sinks_dominate", "bias_and_softcap",
        ] {
            #expect(names.contains(required), "\(required)")
        }
        for name in names {
            let c = out.appendingPathComponent(name)
            let lo: Tensor<Double> = try Npy.read(c.appendingPathComponent("lo.npy").path)
            let hi: Tensor<Double> = try Npy.read(c.appendingPathComponent("hi.npy").path)
            #expect(zip(lo.storage, hi.storage).allSatisfy { $0 <= $1 })
            // The LSE in both bases: lo ≤ hi, base 2 = base e / ln 2, −∞ exactly on rows with no key.
            let l: [Tensor<Double>] = try ["lse_lo", "lse_hi", "lse2_lo", "lse2_hi"].map {
                try Npy.read(c.appendingPathComponent("\($0).npy").path)
            }
            for e in 0..<l[0].count {
                let (a, b, a2, b2) = (l[0][flat: e], l[1][flat: e], l[2][flat: e], l[3][flat: e])
                #expect(a <= b && a2 <= b2, "\(name)")
                if a == -.infinity {
                    #expect(b == -.infinity && a2 == -.infinity && b2 == -.infinity)
                } else {
                    #expect(abs(a2 * log(2.0) - a) <= 1e-12 * max(1, abs(a)), "\(name)")
                }
            }
            // verify certifies the lower bounds of its own vectors within the enclosure width.
            guard let flags = try? caseFlags(c), !flags.isEmpty else { continue }
            let v = try CLIRunner.run(
                [
                    "verify", "--q", "q.npy", "--k", "k.npy", "--v", "v.npy",
                    "--candidate", "lo.npy", "--tolerance", "1e-9",
                ]
                    + flags, cwd: c)
            #expect(v.status == 0, "\(name): \(v.stdout) \(v.stderr)")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
        let noParent = try CLIRunner.run(["vectors", "--out", "missing/parent/vec"], cwd: dir)
        #expect(noParent.status == 2)
    }

    private func caseFlags(_ dir: URL) throws -> [String] {
        let obj =
            try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("case.json")))
            as! [String: Any]
        // verify_args replays the score model (files such as mask.npy lie in the case folder).
        return ["--scale", obj["scale"] as! String] + (obj["verify_args"] as? [String] ?? [])
    }

    @Test func benchCertifiedRunsSmall() throws {
        let r = try CLIRunner.run(["bench", "certified", "--n", "16", "--d", "4", "--runs", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(obj["seconds"] is Double && obj["max_width_bound"] is Double)
    }
}

/// `verify --lse-candidate/--lse-base/--lse-atol` end to end (Proofs/certified-lse.md).
@Suite struct VerifyLSECLITests {
    /// The LSE of the problem written by `CertifiedCLITests.problem`, in Double (error ~1e-15 ≪ the 1e-5 default).
    static func lse(in dir: URL) throws -> [Double] {
        let q: Tensor<Float> = try Npy.read(dir.appendingPathComponent("q.npy").path)
        let k: Tensor<Float> = try Npy.read(dir.appendingPathComponent("k.npy").path)
        let s = 1 / Double(q.cols).squareRoot()
        return (0..<q.rows).map { i in
            let t = (0..<k.rows).map { j in
                s * (0..<q.cols).reduce(0.0) { $0 + Double(q[0, i, $1]) * Double(k[0, j, $1]) }
            }
            let m = t.max()!
            return m + log(t.reduce(0.0) { $0 + exp($1 - m) })
        }
    }

    @Test func honestLSEPassesInItsBaseAndFailsInTheOther() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try CertifiedCLITests.problem(in: dir, seed: 11)
        let l = try Self.lse(in: dir)
        try Npy.write(
            Tensor<Float>(rows: 12, cols: 1, storage: l.map { Float($0) }),
            to: dir.appendingPathComponent("lse.npy").path)
        try Npy.write(
            Tensor<Double>(rows: 1, cols: 12, storage: l.map { $0 / log(2.0) }, logicalRank: 1),
            to: dir.appendingPathComponent("lse2.npy").path)
        let base = ["verify"] + CertifiedCLITests.qkv + ["--candidate", "o.npy", "--tolerance", "1e-6"]
        let ok = try CLIRunner.run(base + ["--lse-candidate", "lse.npy"], cwd: dir)
        #expect(ok.status == 0 && ok.stdout.contains("LSE atol 1e-05: PASS"), "\(ok.stdout) \(ok.stderr)")
        let two = try CLIRunner.run(base + ["--lse-candidate", "lse2.npy", "--lse-base", "2", "--json"], cwd: dir)
        let obj = try JSONSerialization.jsonObject(with: Data(two.stdout.utf8)) as! [String: Any]
        let lse = obj["lse"] as! [String: Any]
        #expect(two.status == 0 && obj["masked_rows"] as? Int == 0 && lse["failing"] as? Int == 0)
        for key in ["max_error_bound", "batch", "head", "row", "failing", "undecided"] {
            #expect(lse[key] != nil, "\(key)")
        }
        let mixed = try CLIRunner.run(base + ["--lse-candidate", "lse.npy", "--lse-base", "2"], cwd: dir)
        #expect(mixed.status == 1 && mixed.stdout.contains("12 of 12 rows fail"), "\(mixed.stdout)")
    }

    @Test func badLSEFlagsAreOneLineUsageErrors() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try CertifiedCLITests.problem(in: dir, seed: 12)
        try Npy.write(Tensor<Float>(rows: 11, cols: 1), to: dir.appendingPathComponent("short.npy").path)
        let base = ["verify"] + CertifiedCLITests.qkv + ["--candidate", "o.npy"]
        for (args, flag) in [
            (["--lse-candidate", "short.npy"], "--lse-candidate"), (["--lse-atol", "1e-3"], "--lse-atol"),
            (["--lse-candidate", "short.npy", "--lse-atol", "-1"], "--lse-atol"), (["--lse-base", "10"], "--lse-base"),
            (["--lse-candidate", "missing.npy"], "--lse-candidate"),
        ] {
            let r = try CLIRunner.run(base + args, cwd: dir)
            #expect(r.status == 2 && r.stdout.isEmpty && r.stderr.contains(flag), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
    }
}
