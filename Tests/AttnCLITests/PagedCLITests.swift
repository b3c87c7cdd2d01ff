import AttnCore
import Foundation
import Testing

/// End-to-end tests of `attnbound kv-replay` and `attnbound bench paged`.
@Suite("kv-replay and bench paged (CLI)")
struct PagedCLITests {
    /// Writes K [2, 40, 8], V [2, 40, 4], Q [4, 5, 8] (GQA 2:1) into a fresh folder, optionally spoiled.
    func inputs(nanInK: Bool = false, vRows: Int = 40, qCols: Int = 8, qHeads: Int = 4, qSteps: Int = 5) throws -> URL {
        let dir = try CLIRunner.tempDir()
        var rng = Xoshiro256StarStar(seed: 11)
        var k: Tensor<Float> = InputDistribution.uniform.sample(heads: 2, rows: 40, cols: 8, bound: 2, using: &rng)
        if nanInK { k[flat: 17] = .nan }
        let v: Tensor<Float> = InputDistribution.uniform.sample(heads: 2, rows: vRows, cols: 4, bound: 1, using: &rng)
        let q: Tensor<Float> = InputDistribution.uniform.sample(heads: qHeads, rows: qSteps, cols: qCols, bound: 2, using: &rng)
        try Npy.write(k, to: dir.appendingPathComponent("K.npy").path)
        try Npy.write(v, to: dir.appendingPathComponent("V.npy").path)
        try Npy.write(q, to: dir.appendingPathComponent("Q.npy").path)
        return dir
    }

    func replayArgs(_ dir: URL, _ extra: [String]) -> [String] {
        ["kv-replay", "--k", dir.appendingPathComponent("K.npy").path, "--v", dir.appendingPathComponent("V.npy").path,
         "--q", dir.appendingPathComponent("Q.npy").path] + extra
    }

    @Test func replayWritesOneRowPerStepAndHeadWithBoundsAboveErrors() throws {
        let dir = try inputs()
        let csv = dir.appendingPathComponent("out.csv")
        for policy in ["arkvale", "arkvale-topk", "quest", "streaming", "h2o", "steady"] {
            let r = try CLIRunner.run(replayArgs(dir, ["--policy", policy, "--budget", "16", "--page-size", "4",
                                                       "--window-pages", "1", "--csv", csv.path]))
            #expect(r.status == 0, "\(policy): \(r.stderr)")
            let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 1 + 5 * 4)
            let header = CSV.parseRow(lines[0])
            #expect(header.first == "step" && header.contains("bound") && header.contains("error") && header.contains("attended_recall") && header.contains("recall_at_1") && header.contains("recall_at_k"))
            let (ie, ib) = (header.firstIndex(of: "error")!, header.firstIndex(of: "bound")!)
            for line in lines.dropFirst() {
                let f = CSV.parseRow(line)
                #expect(Double(f[ie])! <= Double(f[ib])! + 1e-12)
            }
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.json").path))
        }
    }

    /// `--out` / `-o` is the spelling (CONVENTIONS.md); the former `--csv` still works, hidden; both at once is a usage error.
    @Test func outputSpellings() throws {
        let dir = try inputs()
        let base = ["--policy", "quest", "--budget", "16", "--page-size", "4"]
        for (flag, name) in [("--out", "a.csv"), ("-o", "b.csv"), ("--csv", "c.csv")] {
            let path = dir.appendingPathComponent(name).path
            let r = try CLIRunner.run(replayArgs(dir, base + [flag, path]))
            #expect(r.status == 0 && FileManager.default.fileExists(atPath: path), "\(flag): \(r.stderr)")
        }
        let both = dir.appendingPathComponent("d.csv").path
        let r = try CLIRunner.run(replayArgs(dir, base + ["--out", both, "--csv", both]))
        #expect(r.status == 2 && r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: both))
        let help = try CLIRunner.run(["kv-replay", "--help"])
        #expect(help.stdout.contains("--out") && !help.stdout.contains("--csv"))
    }

    @Test func replayJSONIsOneLine() throws {
        let dir = try inputs()
        let r = try CLIRunner.run(replayArgs(dir, ["--policy", "quest", "--budget", "16", "--page-size", "4", "--json"]))
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines[0].contains("\"max_error_bound\":") && lines[0].contains("\"bound_violations\":0"))
    }

    @Test(arguments: [
        (["--budget", "2", "--page-size", "4"], "budget"),
        (["--budget", "16", "--page-size", "0"], "page-size"),
        (["--budget", "16", "--page-size", "4", "--policy", "nonsense"], "policy"),
        (["--budget", "16", "--page-size", "4", "--steady-cosine", "2"], "steady-cosine"),
        (["--budget", "8", "--page-size", "4", "--policy", "arkvale"], "budget"),
    ])
    func badFlagsAreUsageErrors(args: [String], word: String) throws {
        let dir = try inputs()
        let csv = dir.appendingPathComponent("bad.csv")
        let r = try CLIRunner.run(replayArgs(dir, args + ["--csv", csv.path]))
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains(word))
        #expect(!FileManager.default.fileExists(atPath: csv.path))
    }

    @Test func badInputsAreUsageErrors() throws {
        let cases: [(URL, String)] = [
            (try inputs(nanInK: true), "NaN"),
            (try inputs(vRows: 39), "rows"),
            (try inputs(qCols: 7), "d ="),
            (try inputs(qHeads: 3), "multiple"),
            (try inputs(qSteps: 41), "steps"),
        ]
        for (dir, word) in cases {
            let csv = dir.appendingPathComponent("bad.csv")
            let r = try CLIRunner.run(replayArgs(dir, ["--budget", "16", "--page-size", "4", "--csv", csv.path]))
            #expect(r.status == 2, "\(word): \(r.stderr)")
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains(word), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: csv.path))
        }
        let missing = try CLIRunner.run(["kv-replay", "--k", "/nonexistent/K.npy", "--v", "/nonexistent/V.npy",
                                         "--q", "/nonexistent/Q.npy", "--budget", "16", "--page-size", "4"])
        #expect(missing.status == 2 && missing.stderr.hasPrefix("error: "))
        let mixed = try CLIRunner.run(["kv-replay", "--synthetic", "--k", "/tmp/K.npy", "--budget", "16"])
        #expect(mixed.status == 2)
    }

    @Test func syntheticReplayRuns() throws {
        let r = try CLIRunner.run(["kv-replay", "--synthetic", "--context", "512", "--steps", "6", "--kv-heads", "1", "--group", "2",
                                   "--dim", "16", "--budget", "128", "--page-size", "16", "--policy", "arkvale", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"workload\":\"synthetic\"") && r.stdout.contains("\"bound_violations\":0"))
        #expect(r.stdout.components(separatedBy: "\"steps\":").count == 2, "one steps key")
        #expect(r.stdout.contains("\"digest_recall\":{\"aabb\":{\"recall_at_1\":"))
    }

    @Test func benchPagedRunsSmall() throws {
        let r = try CLIRunner.run(["bench", "paged", "--context", "1024", "--d", "16", "--kv-heads", "2", "--groups", "1", "2",
                                   "--page-size", "16", "--budget", "128", "--runs", "1", "--accuracy-context", "512",
                                   "--accuracy-steps", "4", "--accuracy-budget", "128", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        for key in ["\"benchmark\":\"paged\"", "\"dense_seconds\":", "\"speedup\":", "\"scoring_share\":", "\"median_bound_to_error\":"] {
            #expect(lines.first?.contains(key) == true, "missing \(key)")
        }
        let bad = try CLIRunner.run(["bench", "paged", "--budget", "8", "--page-size", "16"])
        #expect(bad.status == 2)
    }
}

/// `vectors --paged` and `kv-replay --selection-out` agree byte for byte on every written case.
@Suite("page-selection vectors (CLI)")
struct PagedVectorsCLITests {
    @Test func replayedSelectionsMatchTheVectors() throws {
        let dir = try CLIRunner.tempDir().appendingPathComponent("vectors")
        let w = try CLIRunner.run(["vectors", "--paged", "--out", dir.path, "--json"])
        #expect(w.status == 0, "\(w.stderr)")
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("index.json"))) as! [String: Any]
        let cases = (index["cases"] as! [[String: Any]]).map { $0["name"] as! String }
        #expect(cases.count >= 10)
        for name in cases {
            let folder = dir.appendingPathComponent(name)
            let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("case.json"))) as! [String: Any]
            let out = folder.appendingPathComponent("replayed.csv")
            let r = try CLIRunner.run(["kv-replay", "--k", folder.appendingPathComponent("k.npy").path,
                                       "--v", folder.appendingPathComponent("v.npy").path,
                                       "--q", folder.appendingPathComponent("q.npy").path, "--selection-out", out.path]
                                      + (meta["kv_replay_args"] as! [String]))
            #expect(r.status == 0, "\(name): \(r.stderr)")
            let expected = try Data(contentsOf: folder.appendingPathComponent("expected_selection.csv"))
            #expect(try Data(contentsOf: out) == expected, "\(name)")
        }
        let bad = try CLIRunner.run(["vectors", "--paged", "--out", "/nonexistent/x/y"])
        #expect(bad.status == 2 && bad.stderr.hasPrefix("error: "))
    }
}
