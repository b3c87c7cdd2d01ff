import AttnCore
import AttnKernels
import Foundation
import Testing

/// Issue 23 end to end: every command over extreme finite inputs and flag values exits 0–3 with one
/// line (never a signal), the issue's examples as explicit cases, and `attention --json`/`--bound-out`.
@Suite struct FiniteDomainCLITests {
    /// Writes q, k, v (4 × 2, V 4 × 2) filled with the three values, in precision `T`, plus a Lite replay folder.
    static func files<T: AttnScalar>(_ x: (Double, Double, Double), as _: T.Type, in dir: URL) throws {
        func t(_ a: Double, flip: Bool = false) -> Tensor<T> {
            Tensor(rows: 4, cols: 2, storage: (0..<8).map { T(flip && $0 % 3 == 1 ? -a : a) })
        }
        let replay = dir.appendingPathComponent("replay")
        try? FileManager.default.createDirectory(at: replay, withIntermediateDirectories: true)
        for (name, value) in [("q", t(x.0)), ("k", t(x.1, flip: true)), ("v", t(x.2, flip: true))] {
            try Npy.write(value, to: dir.appendingPathComponent("\(name).npy").path)
            try Npy.write(value, to: replay.appendingPathComponent("\(name)_0.npy").path)
        }
    }

    /// Exit 0–3 (a trap is a signal: status ≥ 4), and a failure ends with one line starting `error: `.
    static func expectClean(_ args: [String], cwd: URL, _ what: String) throws {
        let r = try CLIRunner.run(args, cwd: cwd)
        #expect((0...3).contains(r.status), "\(what): \(args.joined(separator: " ")) → status \(r.status) \(r.stderr)")
        if r.status != 0 {
            // Progress notes may precede it on stderr; the error itself is one line, the last.
            let lines = r.stderr.split(separator: "\n")
            #expect(
                lines.filter { $0.hasPrefix("error: ") }.count == 1 && lines.last?.hasPrefix("error: ") == true,
                "\(what): \(args) → \(r.stderr)")
        }
    }

    static let qkv = ["--q", "q.npy", "--k", "k.npy", "--v", "v.npy"]

    /// The crash hunt: seven commands over finite inputs from the smallest subnormal to the format's
    /// maximum, at extreme scales. Before issue 23, 170 of 1637 such runs trapped.
    @Test(arguments: [
        (1e-45, 3e38, 3e38), (3e38, 3e38, 1), (2e19, -2e19, 1), (0, 0, 3e38), (1e-45, 1e-45, 1e-45),
        (5e-324, 1e300, 1e300), (1e300, 1e150, 1e300), (1e150, 1e150, 1), (0, 0, 1.7e308), (1e-200, 1e-200, 5e-324),
    ])
    func everyCommandExitsCleanly(values: (Double, Double, Double)) throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let float32 = values.0 <= 3.4e38 && values.1 <= 3.4e38 && values.2 <= 3.4e38 && values.0 != 5e-324
        if float32 {
            try Self.files(values, as: Float.self, in: dir)
        } else {
            try Self.files(values, as: Double.self, in: dir)
        }
        let what = "\(values)"
        for scale in ["standard", "5e-46", "7e-324", "1e30"] {
            for kernel in ["fast", "reference"] {
                for precision in ["float32", "float64"] {
                    try Self.expectClean(
                        ["attention"] + Self.qkv + [
                            "--scale", scale, "--kernel", kernel, "--precision", precision, "--out", "o.npy",
                            "--bound-out", "b.npy", "--json",
                        ], cwd: dir, what)
                }
            }
            for method in ["poly", "svd"] {
                try Self.expectClean(
                    ["approx", "--method", method, "--eps", "1e-6", "--scale", scale] + Self.qkv, cwd: dir, what)
            }
            try Self.expectClean(
                ["approx", "--method", "poly", "--rank", "2", "--scale", scale] + Self.qkv, cwd: dir, what)
            try Self.expectClean(
                ["regime", "--q", "q.npy", "--k", "k.npy", "--scale", scale, "--json"], cwd: dir, what)
        }
        try Self.expectClean(
            ["verify"] + Self.qkv + ["--candidate", "v.npy", "--atol", "1e-3", "--json"], cwd: dir, what)
        for thr in ["-inf", "-6", "1e300"] {
            try Self.expectClean(
                ["lite", "--replay", "replay", "--q-tile", "4", "--k-tile", "4", "--thr", thr, "--out", "l.csv"],
                cwd: dir, what)
        }
        try Self.expectClean(
            [
                "lite", "calibrate", "--replay", "replay", "--q-tile", "4", "--k-tile", "4", "--pareto-out", "p.csv",
                "--out", "s.csv",
            ], cwd: dir, what)
        for (n, B, scale) in [("8", "1e30", "standard"), ("64", "4.5e22", "2e-45"), ("4", "3e38", "1e-300")] {
            try Self.expectClean(["demo", "--n", n, "--d", "1", "--B", B, "--scale", scale, "--json"], cwd: dir, what)
        }
    }

    /// The issue's `demo` examples: the bound held nowhere (nan, and 1.67e21 against 3.13e17).
    @Test(arguments: [("8", "1e30", "standard"), ("64", "4.5e22", "2e-45")])
    func demoBoundHolds(n: String, B: String, scale: String) throws {
        let r = try CLIRunner.run(["demo", "--n", n, "--d", "1", "--B", B, "--scale", scale])
        #expect(r.status == 0 && r.stdout.contains("holds"), "\(r.stdout) \(r.stderr)")
    }

    /// `demo --family`: the fast kernel on each edge family (n = 8, d = 2), its bound holding.
    @Test(arguments: EdgeFamily.allCases)
    func demoOnEachFamily(family: EdgeFamily) throws {
        let r = try CLIRunner.run(["demo", "--n", "8", "--d", "2", "--family", family.rawValue, "--seed", "5"])
        #expect(r.status == 0 && r.stdout.contains("holds"), "\(family): \(r.stdout) \(r.stderr)")
    }

    /// `regime` with Q = K = [[1e150], [1e150]] trapped converting R/2 to Int (exit 132).
    @Test func regimeOnHugeHeads() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = Tensor<Double>(rows: 2, cols: 1, storage: [1e150, 1e150])
        try Npy.write(x, to: dir.appendingPathComponent("q.npy").path)
        try Npy.write(x, to: dir.appendingPathComponent("k.npy").path)
        try Self.expectClean(["regime", "--q", "q.npy", "--k", "k.npy"], cwd: dir, "regime 1e150")
    }

    /// `approx --method poly` with V = 10³⁰⁸ gave T = inf beside a bound of 1.2·10²⁹⁴: now exit 3, no output.
    @Test func polyOverflowIsInfeasible() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (q, k, v, extra) in [
            ([0.1], [0.2, 0.3], [1e308, 1e308], ["--eps", "1e-6"]),
            ([1e-100], [1e100, 5e99], [1e250, 1e250], ["--rank", "2", "--scale", "1"]),
        ] {
            for (name, x) in [("q", q), ("k", k), ("v", v)] {
                try Npy.write(
                    Tensor<Double>(rows: x.count, cols: 1, storage: x),
                    to: dir.appendingPathComponent("\(name).npy").path)
            }
            let r = try CLIRunner.run(
                ["approx", "--method", "poly"] + Self.qkv + extra + ["--out", "t.npy", "--json"], cwd: dir)
            if r.status == 0 {
                let t: Tensor<Double> = try Npy.read(dir.appendingPathComponent("t.npy").path)
                #expect(t.storage.allSatisfy { $0.isFinite }, "\(r.stdout)")
            } else {
                #expect(
                    r.status == 3 && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("t.npy").path))
            }
        }
    }

    /// `attention --json` prints the kernel's `max_error_bound`; `--bound-out` writes one bound per row,
    /// shaped like Q's leading axes × n_q, and each bound holds against the Float64 reference.
    @Test func attentionExposesItsBound() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = Xoshiro256StarStar(seed: 7)
        let q: Tensor<Float> = InputDistribution.uniform.sample(heads: 3, rows: 5, cols: 4, bound: 2, using: &rng)
        let k: Tensor<Float> = InputDistribution.uniform.sample(heads: 3, rows: 6, cols: 4, bound: 2, using: &rng)
        let v: Tensor<Float> = InputDistribution.uniform.sample(heads: 3, rows: 6, cols: 2, bound: 1, using: &rng)
        for (name, x) in [("q", q), ("k", k), ("v", v)] {
            try Npy.write(x, to: dir.appendingPathComponent("\(name).npy").path)
        }
        let r = try CLIRunner.run(
            ["attention"] + Self.qkv + ["--out", "o.npy", "--bound-out", "b.npy", "--json"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let json = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
        let maxBound = json["max_error_bound"] as? Double ?? -1
        let b: Tensor<Double> = try Npy.read(dir.appendingPathComponent("b.npy").path)
        #expect(b.shape == [3, 5])
        #expect(b.storage.max() == maxBound && maxBound > 0)
        let o: Tensor<Float> = try Npy.read(dir.appendingPathComponent("o.npy").path)
        let ref = try ReferenceAttention.compute(q: q, k: k, v: v, scale: .standard)
        for h in 0..<3 {
            for i in 0..<5 {
                for c in 0..<2 { #expect(abs(Double(o[h, i, c]) - ref[h, i, c]) <= b.storage[h * 5 + i]) }
            }
        }
    }
}
