import AttnCore
import Foundation
import PropertyBased
import Testing

/// `attnbound plan`, `approx` and `bench poly` end to end through the built binary.
@Suite struct PolyCLITests {
    static func problem(in dir: URL, seed: UInt64, n: Int = 24, d: Int = 3, dv: Int = 2, B: Double = 1) throws {
        var g = Xoshiro256StarStar(seed: seed)
        for (name, cols) in [("q", d), ("k", d), ("v", dv)] {
            let t: Tensor<Double> = InputDistribution.uniform.sample(rows: n, cols: cols, bound: B, using: &g)
            try Npy.write(t, to: dir.appendingPathComponent("\(name).npy").path)
        }
    }

    static let qkv = ["--q", "q.npy", "--k", "k.npy", "--v", "v.npy"]

    static func json(_ s: String) -> [String: Any] {
        let line = s.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!line.contains("\n"))
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }

    @Test func planTextAndJSON() throws {
        let t = try CLIRunner.run(["plan", "--n", "65536", "--d", "4", "--B", "1", "--eps", "1e-6"])
        #expect(t.status == 0, "\(t.stderr)")
        #expect(t.stdout.contains("certified degree g               7"))
        #expect(t.stdout.contains("330"))
        let j = try CLIRunner.run(["plan", "--n", "65536", "--d", "4", "--B", "1", "--eps", "1e-6", "--json"])
        let o = Self.json(j.stdout)
        #expect(o["degree"] as? Int == 7)
        #expect(o["rank"] as? Int == 330)
        #expect(o["scale"] as? String == "paper")
        #expect((o["relative_error_bound"] as? Double ?? 1) <= 1e-6)
        #expect(o["poly_wins"] as? Bool == true)
        // B → 0: degree 0, rank 1.
        let z = Self.json(
            try CLIRunner.run(["plan", "--n", "8", "--d", "4", "--B", "0", "--eps", "1e-6", "--json"]).stdout)
        #expect(z["degree"] as? Int == 0 && z["rank"] as? Int == 1)
    }

    @Test func planRejectsBadFlags() throws {
        for args in [
            ["--n", "0", "--d", "4", "--B", "1", "--eps", "1e-6"],
            ["--n", "8", "--d", "4", "--B", "nan", "--eps", "1e-6"],
            ["--n", "8", "--d", "4", "--B", "1", "--eps", "0"],
            ["--n", "8", "--d", "4", "--B", "1", "--eps", "1e-6", "--scale", "-1"],
        ] {
            let r = try CLIRunner.run(["plan"] + args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1)
        }
    }

    /// Every method writes T and reports its error; poly's bound holds.
    @Test func approxAllMethods() async throws {
        await propertyCheck(count: 3, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            let dir = try! CLIRunner.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            try! Self.problem(in: dir, seed: UInt64(seed))
            for method in ["poly", "svd", "performer", "nystrom"] {
                let r = try! CLIRunner.run(
                    ["approx", "--method", method, "--eps", "1e-4"] + Self.qkv
                        + ["--out", "t_\(method).npy", "--json"], cwd: dir)
                #expect(r.status == 0, "\(method): \(r.stderr)")
                let o = Self.json(r.stdout)
                #expect(o["method"] as? String == method)
                #expect(o["max_abs_error"] is Double)
                #expect(o["max_relative_entry_error"] is Double)
                let t: Tensor<Double> = try! Npy.read(dir.appendingPathComponent("t_\(method).npy").path)
                #expect(t.shape == [24, 2])
                if method == "poly" {
                    let bound = o["max_error_bound"] as? Double ?? -1
                    #expect((o["max_abs_error"] as? Double ?? .infinity) <= bound)
                    #expect(o["degree"] is Int)
                }
            }
            let text = try! CLIRunner.run(
                ["approx", "--method", "poly", "--rank", "20"] + Self.qkv + ["--out", "t.npy"], cwd: dir)
            #expect(text.status == 0)
            #expect(text.stdout.contains("holds"))
        }
    }

    /// Bad input: one-line error, exit 2, and no output file left behind.
    @Test func approxErrors() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.problem(in: dir, seed: 5)
        var badK: Tensor<Double> = try Npy.read(dir.appendingPathComponent("k.npy").path)
        badK[flat: 3] = .infinity
        try Npy.write(badK, to: dir.appendingPathComponent("kinf.npy").path)
        try Npy.write(Tensor<Double>(rows: 5, cols: 2), to: dir.appendingPathComponent("vshort.npy").path)
        let cases: [[String]] = [
            ["approx", "--method", "poly", "--eps", "1e-3", "--rank", "5"] + Self.qkv + ["--out", "o.npy"],
            ["approx", "--method", "poly"] + Self.qkv + ["--out", "o.npy"],
            ["approx", "--method", "magic", "--eps", "1e-3"] + Self.qkv + ["--out", "o.npy"],
            [
                "approx", "--method", "svd", "--eps", "1e-3", "--q", "q.npy", "--k", "kinf.npy", "--v", "v.npy",
                "--out", "o.npy",
            ],
            [
                "approx", "--method", "svd", "--eps", "1e-3", "--q", "missing.npy", "--k", "k.npy", "--v", "v.npy",
                "--out", "o.npy",
            ],
            [
                "approx", "--method", "poly", "--eps", "1e-3", "--q", "q.npy", "--k", "k.npy", "--v", "vshort.npy",
                "--out", "o.npy",
            ],
            ["approx", "--method", "poly", "--eps", "1e-3"] + Self.qkv + ["--out", "nowhere/o.npy"],
        ]
        for args in cases {
            let r = try CLIRunner.run(args, cwd: dir)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o.npy").path))
        }
        // A degree beyond the limit is infeasible (exit 3), not a crash.
        try Self.problem(in: dir, seed: 6, B: 30)
        let r = try CLIRunner.run(
            ["approx", "--method", "poly", "--eps", "1e-12", "--scale", "standard"] + Self.qkv
                + ["--out", "o.npy"], cwd: dir)
        #expect(r.status == 3, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o.npy").path))
    }

    @Test func benchPolySmoke() throws {
        let r = try CLIRunner.run([
            "bench", "poly", "--min-log2", "5", "--max-log2", "6", "--exact-max-log2", "5",
            "--runs", "1", "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let o = Self.json(r.stdout)
        #expect(o["benchmark"] as? String == "poly")
        #expect((o["results"] as? [Any])?.count == 2)
        #expect(o["poly_exponent"] is Double)
        #expect(o["crossover_model"] is Double)
    }
}
