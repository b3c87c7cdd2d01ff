import AttnCore
import AttnKernels
import Foundation
import PropertyBased
import Testing

/// `attnbound attention`, `demo` and the shared error conventions, end to end.
@Suite("CLI: attention")
struct AttentionCLITests {
    static func problem(
        in dir: URL, nq: Int = 5, nk: Int = 7, d: Int = 4, dv: Int = 3, heads: Int = 1,
        bound: Double = 2, seed: UInt64 = 1
    ) throws -> (Tensor<Float>, Tensor<Float>, Tensor<Float>) {
        var rng = Xoshiro256StarStar(seed: seed)
        let rank = heads == 1 ? 2 : 3
        func t(_ r: Int, _ c: Int, _ b: Double) -> Tensor<Float> {
            let x: Tensor<Float> = InputDistribution.uniform.sample(
                heads: heads, rows: r, cols: c, bound: b, using: &rng)
            return Tensor(heads: heads, rows: r, cols: c, storage: x.storage, logicalRank: rank)
        }
        let (q, k, v) = (t(nq, d, bound), t(nk, d, bound), t(nk, dv, 1))
        try Npy.write(q, to: dir.appendingPathComponent("q.npy").path)
        try Npy.write(k, to: dir.appendingPathComponent("k.npy").path)
        try Npy.write(v, to: dir.appendingPathComponent("v.npy").path)
        return (q, k, v)
    }

    static func args(_ dir: URL, _ extra: [String]) -> [String] {
        [
            "attention", "--q", dir.appendingPathComponent("q.npy").path, "--k",
            dir.appendingPathComponent("k.npy").path,
            "--v", dir.appendingPathComponent("v.npy").path,
        ] + extra
    }

    @Test("computes the same output as the library, both kernels, both precisions, 2-D and 3-D files")
    func matchesLibrary() throws {
        let dir = try CLIRunner.tempDir()
        for heads in [1, 3] {
            let (q, k, v) = try Self.problem(in: dir, heads: heads)
            for kernel in ["reference", "fast"] {
                for precision in ["float32", "float64"] {
                    let out = dir.appendingPathComponent("o-\(kernel)-\(precision).npy").path
                    let r = try CLIRunner.run(
                        Self.args(
                            dir,
                            [
                                "--kernel", kernel, "--precision", precision,
                                "--scale", "0.37", "--causal", "--out", out,
                            ]))
                    #expect(r.status == 0, "\(r.stderr)")
                    let o: Tensor<Double> = try Npy.read(out)
                    #expect(o.shape == (heads == 1 ? [5, 3] : [3, 5, 3]))
                    let ref = try ReferenceAttention.compute(
                        q: q, k: k, v: v, scale: .decimal("0.37"), scoreModel: .causal())
                    let bound = ForwardErrorBound.fastAttention(
                        q: q, k: k, v: v, scale: .decimal("0.37"), scoreModel: .causal()
                    )
                    .max()!
                    #expect(ErrorMetrics.maxAbsDiff(o, ref) <= 2 * bound)
                }
            }
        }
    }

    /// Each bad invocation and a word its one-line error must contain.
    static let badCalls: [([String], String)] = [
        (["--scale", "0", "--out", "OUT"], "scale"),
        (["--scale", "-2", "--out", "OUT"], "scale"),
        (["--scale", "nan", "--out", "OUT"], "scale"),
        (["--kernel", "magic", "--out", "OUT"], "kernel"),
        (["--precision", "float16", "--out", "OUT"], "precision"),
        (["--out", "/nonexistent-dir/o.npy"], "nonexistent-dir"),
        (["--bogus", "--out", "OUT"], "bogus"),
        ([], "out"),
    ]

    @Test("bad flags exit 2 with one line, and write nothing", arguments: AttentionCLITests.badCalls.indices)
    func badFlags(_ i: Int) throws {
        let dir = try CLIRunner.tempDir()
        _ = try Self.problem(in: dir)
        let (extra, word) = Self.badCalls[i]
        let out = dir.appendingPathComponent("o.npy").path
        let r = try CLIRunner.run(Self.args(dir, extra.map { $0 == "OUT" ? out : $0 }))
        #expect(r.status == 2, "\(extra): \(r.stderr)")
        #expect(r.stderr.hasPrefix("error: "), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(word), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("invalid input files exit 2 naming the file, and write nothing")
    func badFiles() throws {
        let dir = try CLIRunner.tempDir()
        let (q, _, _) = try Self.problem(in: dir)
        let out = dir.appendingPathComponent("o.npy").path
        let qPath = dir.appendingPathComponent("q.npy").path
        // NaN in Q.
        var nanQ = q
        nanQ[flat: 1] = .nan
        try Npy.write(nanQ, to: qPath)
        var r = try CLIRunner.run(Self.args(dir, ["--out", out]))
        #expect(r.status == 2 && r.stderr.contains("NaN") && r.stderr.contains("q.npy"), "\(r.stderr)")
        // Shape mismatch: Q with d = 5.
        try Npy.write(Tensor<Float>(rows: 5, cols: 5), to: qPath)
        r = try CLIRunner.run(Self.args(dir, ["--out", out]))
        #expect(r.status == 2 && r.stderr.contains("shape mismatch"), "\(r.stderr)")
        // Truncated file.
        let bytes = Npy.encode(q)
        try bytes.prefix(bytes.count - 3).write(to: URL(fileURLWithPath: qPath))
        r = try CLIRunner.run(Self.args(dir, ["--out", out]))
        #expect(r.status == 2 && r.stderr.contains("truncated"), "\(r.stderr)")
        // Missing file.
        try FileManager.default.removeItem(atPath: qPath)
        r = try CLIRunner.run(Self.args(dir, ["--out", out]))
        #expect(r.status == 2 && r.stderr.contains("q.npy"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.hasSuffix(".tmp") })
    }

    /// Bottom-right causal with n_q > n_k leaves the first n_q − n_k rows without a key: they are
    /// defined as 0 (PyTorch's _safe_softmax), the others as usual.
    @Test("causal with n_q > n_k: the rows that see no key are 0")
    func causalTooManyQueries() throws {
        let dir = try CLIRunner.tempDir()
        _ = try Self.problem(in: dir, nq: 9, nk: 4)
        let out = dir.appendingPathComponent("o.npy").path
        let r = try CLIRunner.run(Self.args(dir, ["--causal", "--out", out]))
        #expect(r.status == 0, "\(r.stderr)")
        let o: Tensor<Double> = try Npy.read(out)
        for i in 0..<9 {
            let zero = (0..<o.cols).allSatisfy { o[0, i, $0] == 0 }
            #expect(zero == (i < 5), "row \(i)")
        }
    }

    @Test("help and version exit 0; the demo runs")
    func helpAndDemo() throws {
        var r = try CLIRunner.run(["--help"])
        #expect(r.status == 0 && r.stdout.contains("attention"))
        r = try CLIRunner.run(["--version"])
        #expect(r.status == 0 && !r.stdout.isEmpty)
        r = try CLIRunner.run(["demo", "--n", "64", "--d", "8"])
        #expect(r.status == 0 && r.stdout.contains("holds"), "\(r.stdout)\(r.stderr)")
        r = try CLIRunner.run(["demo", "--n", "0"])
        #expect(r.status == 2)
    }

    /// A library error names its parameter's flag (ErrorFlags: kebab case, or the exception table),
    /// in one line; the former output spellings are hidden aliases of `--out`.
    @Test("library errors name the flag; --output and --csv are aliases of --out")
    func flagsOfLibraryParameters() throws {
        let calls: [([String], String)] = [
            (["plan", "--n", "0", "--d", "4", "--B", "1", "--eps", "1e-6"], "error: --n: "),
            (["plan", "--n", "8", "--d", "4", "--dv", "0", "--B", "1", "--eps", "1e-6"], "error: --dv: "),
            (["plan", "--n", "8", "--d", "4", "--B=-1", "--eps", "1e-6"], "error: --B: "),
            (["plan", "--n", "8", "--d", "4", "--B", "1", "--eps", "0"], "error: --eps: "),
            (["demo", "--B=-1"], "error: --B: "),
            (["sweep", "--C", "0", "--out", "never"], "error: --C: "),
            (["sweep", "--eps-power", "9", "--out", "never"], "error: --eps-power: "),
            (["sweep", "--rows", "0", "--out", "never"], "error: --rows: "),
            (["sweep", "--c-steps", "0", "--out", "never"], "error: --c-steps: "),
            (["bench", "poly", "--min-log2", "3"], "error: --min-log2: "),
            (["bench", "exact", "--query-tile", "0"], "error: --query-tile: "),
        ]
        let dir = try CLIRunner.tempDir()
        for (args, prefix) in calls {
            let r = try CLIRunner.run(args, cwd: dir)
            #expect(r.status == 2 && r.stderr.hasPrefix(prefix), "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty && r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        _ = try Self.problem(in: dir)
        for flag in ["-o", "--output", "--csv"] {
            let out = dir.appendingPathComponent("o\(flag).npy").path
            let r = try CLIRunner.run(Self.args(dir, [flag, out]))
            #expect(r.status == 0 && FileManager.default.fileExists(atPath: out), "\(flag): \(r.stderr)")
        }
        let both = try CLIRunner.run(Self.args(dir, ["--out", "a.npy", "--output", "b.npy"]))
        #expect(both.status == 2 && both.stderr.hasPrefix("error: "), "\(both.stderr)")
    }

    @Test("demo --json is one object with the error beside its bound")
    func demoJSON() throws {
        let r = try CLIRunner.run(["demo", "--n", "32", "--d", "4", "--seed", "3", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((o["max_abs_error"] as? Double ?? 1) <= (o["max_error_bound"] as? Double ?? 0))
        #expect(r.stdout.split(separator: "\n").count == 1)
    }
}
