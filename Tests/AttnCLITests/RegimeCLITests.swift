import AttnCore
import Foundation
import Testing

/// `attnbound regime` end to end through the built binary: CSV columns, JSON keys,
/// the sidecar, agreement with `plan`, GQA, and error exits.
@Suite struct RegimeCLITests {
    static func json(_ s: String) -> [String: Any] {
        let line = s.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!line.contains("\n"))
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }

    static func write(
        _ dir: URL, _ name: String, heads: Int = 1, rows: Int, cols: Int, batch: Int = 1,
        _ f: (Int, Int, Int) -> Double
    ) throws {
        var t = Tensor<Double>(
            heads: heads, rows: rows, cols: cols, logicalRank: batch > 1 ? 4 : heads == 1 ? 2 : 3,
            batch: batch)
        for h in 0..<heads { for i in 0..<rows { for c in 0..<cols { t[h, i, c] = f(h, i, c) } } }
        try Npy.write(t, to: dir.appendingPathComponent(name).path)
    }

    /// All entries B: the degree equals `plan --B B` for the same n, d, ε and scale.
    @Test func agreesWithPlan() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.write(dir, "q.npy", rows: 100, cols: 6) { _, _, _ in 0.9 }
        try Self.write(dir, "k.npy", rows: 100, cols: 6) { _, _, _ in 0.9 }
        for scale in ["standard", "paper"] {
            let r = try CLIRunner.run(
                ["regime", "--q", "q.npy", "--k", "k.npy", "--scale", scale, "--eps", "1e-6", "--json"],
                cwd: dir)
            #expect(r.status == 0, "\(r.stderr)")
            let rows = Self.json(r.stdout)["rows"] as? [[String: Any]] ?? []
            let p = Self.json(
                try CLIRunner.run([
                    "plan", "--n", "100", "--d", "6", "--B", "0.9", "--eps", "1e-6",
                    "--scale", scale, "--json",
                ]).stdout)
            let (mine, plans) = (rows.first?["degree"] as? Int ?? -1, p["degree"] as? Int ?? -2)
            #expect(mine == plans, "\(scale)")
            #expect(rows.first?["crossover_n"] as? Double == p["crossover_n"] as? Double)
            #expect(rows.count == (scale == "paper" ? 1 : 2))
        }
    }

    /// CSV header, sidecar keys, JSON keys (`*_bound` for the bounds), GQA heads.
    @Test func csvJSONAndSidecar() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.write(dir, "q.npy", heads: 4, rows: 20, cols: 8) { h, i, c in sin(Double(h * 131 + i * 7 + c)) }
        try Self.write(dir, "k.npy", heads: 2, rows: 24, cols: 8) { h, i, c in cos(Double(h * 17 + i * 3 + c)) }
        let r = try CLIRunner.run(
            ["regime", "--q", "q.npy", "--k", "k.npy", "--out", "regime.csv", "--json"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let csv = try String(contentsOf: dir.appendingPathComponent("regime.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n").map(String.init)
        let header =
            "batch,head,kv_head,scale,scale_value,n_q,n,d,B,c,eps,radius,max_abs_score,"
            + "max_abs_score_error_bound,degree,relative_error_bound,rank,exponent,poly_wins,crossover_n"
        #expect(lines.count == 1 + 4 * 2)  // 4 heads × (standard, paper)
        #expect((lines.first ?? "") == header)
        let starts = lines.count == 9 && lines[1].hasPrefix("0,0,0,standard,") && lines[7].hasPrefix("0,3,1,standard,")
        #expect(starts, "\(lines)")
        let o = Self.json(r.stdout)
        let rows = o["rows"] as? [[String: Any]] ?? []
        #expect(rows.count == 8)
        let rowKeys = Array((rows.first ?? [:]).keys)
        for key in ["max_abs_score_error_bound", "relative_error_bound", "radius", "degree", "exponent", "c", "B"] {
            #expect(rowKeys.contains(key), "\(key)")
        }
        let summaryKeys = Array((o["summary"] as? [String: Any] ?? [:]).keys).sorted()
        #expect(summaryKeys == ["paper", "standard"])
        let side = Self.json(try String(contentsOf: dir.appendingPathComponent("regime.json"), encoding: .utf8))
        let sideKeys = Array(side.keys)
        for key in ["tool", "version", "argv", "csv", "inputs", "parameters", "seed", "machine", "summary"] {
            #expect(sideKeys.contains(key), "sidecar \(key)")
        }
        // Text mode prints a summary line per scale.
        let t = try CLIRunner.run(["regime", "--q", "q.npy", "--k", "k.npy", "--scale", "paper"], cwd: dir)
        #expect(t.status == 0 && t.stdout.contains("summary: 4 heads at scale paper"))
    }

    /// 4-D input [batch, heads, n, d] with GQA K: rows numbered by (batch, head), float32 read exactly.
    @Test func fourDimensionalInput() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.write(dir, "q.npy", heads: 2 * 4, rows: 16, cols: 4, batch: 2) { h, i, c in
            Double(h + 1) * sin(Double(i + c))
        }
        try Self.write(dir, "k.npy", heads: 2 * 2, rows: 16, cols: 4, batch: 2) { h, i, c in cos(Double(h * 5 + i + c))
        }
        let r = try CLIRunner.run(["regime", "--q", "q.npy", "--k", "k.npy", "--scale", "paper", "--json"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let rows = Self.json(r.stdout)["rows"] as? [[String: Any]] ?? []
        let ids = rows.map { "\($0["batch"] as? Int ?? -1)/\($0["head"] as? Int ?? -1)/\($0["kv_head"] as? Int ?? -1)" }
        #expect(ids == ["0/0/0", "0/1/0", "0/2/1", "0/3/1", "1/0/0", "1/1/0", "1/2/1", "1/3/1"])
    }

    /// Bad input: exit 2, one line `error: …` naming the flag or file; no output file left behind.
    @Test func errorExits() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.write(dir, "q.npy", rows: 8, cols: 4) { _, i, c in Double(i - c) }
        try Self.write(dir, "k3.npy", rows: 8, cols: 3) { _, _, _ in 1 }
        try Self.write(dir, "nan.npy", rows: 8, cols: 4) { _, i, _ in i == 3 ? .nan : 1 }
        try Self.write(dir, "one.npy", rows: 1, cols: 4) { _, _, _ in 1 }
        try Self.write(dir, "q3.npy", heads: 3, rows: 8, cols: 4) { _, _, _ in 1 }
        try Self.write(dir, "k2.npy", heads: 2, rows: 8, cols: 4) { _, _, _ in 1 }
        try Self.write(dir, "q4.npy", heads: 6, rows: 8, cols: 4, batch: 2) { _, _, _ in 1 }
        try Data("not a npy".utf8).write(to: dir.appendingPathComponent("bad.npy"))
        let out = ["--out", "r.csv"]
        let cases: [([String], String)] = [
            (["--q", "q.npy", "--k", "k3.npy"], "d = 4"),
            (["--q", "q.npy", "--k", "nan.npy"], "--k: contains NaN"),
            (["--q", "nan.npy", "--k", "q.npy"], "--q: contains NaN"),
            (["--q", "q.npy", "--k", "one.npy"], "--k: needs at least 2 keys"),
            (["--q", "q4.npy", "--k", "q.npy"], "batch"),
            (["--q", "q3.npy", "--k", "k2.npy"], "GQA"),
            (["--q", "q.npy", "--k", "bad.npy"], "bad.npy"),
            (["--q", "q.npy", "--k", "missing.npy"], "missing.npy"),
            (["--q", "q.npy", "--k", "q.npy", "--eps", "0"], "--eps"),
            (["--q", "q.npy", "--k", "q.npy", "--eps", "1e-3", "--eps-power", "2"], "--eps"),
            (["--q", "q.npy", "--k", "q.npy", "--eps-power", "nan"], "--eps-power"),
            (["--q", "q.npy", "--k", "q.npy", "--scale", "0"], "--scale"),
            (["--q", "q.npy", "--k", "q.npy", "--out", "nofolder/r.csv"], "--out nofolder"),
        ]
        for (args, mention) in cases {
            let r = try CLIRunner.run(["regime"] + args + (args.contains("--out") ? [] : out), cwd: dir)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(mention), "\(args): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("r.csv").path))
        }
    }
}
