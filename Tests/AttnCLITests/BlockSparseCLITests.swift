import AttnCore
import Foundation
import Testing

/// End-to-end tests of `attnbound lite`, `dbsp plan`, `prune` and `bench sparse`.
@Suite struct BlockSparseCLITests {
    func csv(_ url: URL) throws -> [[String]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { CSV.parseRow($0) }
    }

    func column(_ rows: [[String]], _ name: String) -> [String] {
        let i = rows[0].firstIndex(of: name)!
        return rows.dropFirst().map { $0[i] }
    }

    func expectUsageError(_ r: CLIRunner.Result, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, sourceLocation: sourceLocation)
        // Progress lines may precede it; the error itself is the last line, and the only one.
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.last?.hasPrefix("error: ") == true && lines.filter { $0.hasPrefix("error: ") }.count == 1,
                "\(r.stderr)", sourceLocation: sourceLocation)
    }

    let small = ["--frames", "2", "--height", "4", "--width", "8", "--heads", "2", "--d", "16", "--steps", "4",
                 "--q-tile", "8", "--k-tile", "8", "--signal", "6"]

    @Test func liteWritesOneRowPerStepAndExactAtMinusInfinity() throws {
        let dir = try CLIRunner.tempDir()
        let out = dir.appendingPathComponent("lite.csv")
        let ck = dir.appendingPathComponent("ck.json")
        let r = try CLIRunner.run(["lite"] + small + ["--thr", "-inf", "--seed", "3", "--checkpoint", ck.path, "--out", out.path])
        #expect(!FileManager.default.fileExists(atPath: ck.path))  // removed on success
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try csv(out)
        #expect(rows[0] == ["step", "computed_tiles", "total_tiles", "skipped_fraction", "newly_marked", "max_abs_error",
                            "seconds", "dense_seconds", "time_ratio"])
        #expect(rows.count == 5)
        #expect(column(rows, "skipped_fraction").allSatisfy { $0 == "0" })
        #expect(column(rows, "max_abs_error").allSatisfy { Double($0)! < 1e-4 })
        let sidecar = try String(contentsOf: dir.appendingPathComponent("lite.json"), encoding: .utf8)
        #expect(sidecar.contains("\"seed\":\"3\""))

        let skip = try CLIRunner.run(["lite"] + small + ["--thr", "1e30", "--out", out.path])
        #expect(skip.status == 0)
        let fractions = column(try csv(out), "skipped_fraction").map { Double($0)! }
        #expect(fractions[0] == 0 && fractions[1] == 1 - 1.0 / 8)  // one k-tile of 8 per q-tile
    }

    @Test func liteReplaysAFolderOfSteps() throws {
        let dir = try CLIRunner.tempDir()
        var rng = Xoshiro256StarStar(seed: 9)
        for t in 0..<2 { for name in ["q", "k", "v"] {
            let x: Tensor<Float> = InputDistribution.uniform.sample(heads: 2, rows: 24, cols: 8, bound: 2, using: &rng)
            try Npy.write(x, to: dir.appendingPathComponent("\(name)_\(t).npy").path)
        }}
        let out = dir.appendingPathComponent("replay.csv")
        let r = try CLIRunner.run(["lite", "--replay", dir.path, "--q-tile", "8", "--k-tile", "8", "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        let replayed = try csv(out)
        #expect(replayed.count == 3)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("v_1.npy"))
        let bad = try CLIRunner.run(["lite", "--replay", dir.path, "--out", dir.appendingPathComponent("x.csv").path])
        expectUsageError(bad)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.csv").path))
    }

    @Test func liteRejectsBadFlags() throws {
        let dir = try CLIRunner.tempDir()
        let out = dir.appendingPathComponent("a.csv").path
        for args in [["--thr", "nan"], ["--must-do", "5:3"], ["--must-skip", "0:512"], ["--q-tile", "0"],
                     ["--correlation", "2"], ["--reset-every", "0"]] {
            let r = try CLIRunner.run(["lite"] + small + args + ["--out", out])
            expectUsageError(r)
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        expectUsageError(try CLIRunner.run(["lite"] + small + ["--out", "/nonexistent-folder/a.csv"]))
        let junk = dir.appendingPathComponent("ck.json")
        try Data("{}".utf8).write(to: junk)
        let bad = try CLIRunner.run(["lite"] + small + ["--checkpoint", junk.path, "--out", out])
        expectUsageError(bad)
        #expect(bad.stderr.contains("error: --checkpoint: \(junk.path): not a lite checkpoint"), "\(bad.stderr)")
    }

    @Test func dbspPlanBalancesAndExecutesExactly() throws {
        let dir = try CLIRunner.tempDir()
        let out = dir.appendingPathComponent("plan.csv"), ranks = dir.appendingPathComponent("ranks.csv")
        let r = try CLIRunner.run(["dbsp", "plan", "--heads", "8", "--blocks", "8", "--block-size", "8", "--head-dim", "8",
                                   "--devices", "4", "--out", out.path, "--ranks-out", ranks.path])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try csv(out)
        #expect(Set(column(rows, "ulysses").map { Int($0)! }) == [4, 2, 1])
        #expect(column(rows, "chosen").filter { $0 == "1" }.count == 1)
        for (a, b) in zip(column(rows, "rho_balanced"), column(rows, "rho_contiguous")) { #expect(Double(a)! <= Double(b)!) }
        let perDevice = try csv(ranks)
        #expect(perDevice.count == 5)

        // Lists are comma separated (`CommaList`); a bad item is a usage error naming the flag.
        let list = try CLIRunner.run(["dbsp", "plan", "--rewards", "0,x", "--out", out.path])
        expectUsageError(list)
        #expect(list.stderr.contains("--rewards"), "\(list.stderr)")
        expectUsageError(try CLIRunner.run(["dbsp", "plan", "--rewards", "0,-1", "--out", out.path]))
        let sidecar = try String(contentsOf: out.deletingPathExtension().appendingPathExtension("json"), encoding: .utf8)
        #expect(sidecar.contains("\"tool\":\"attnbound dbsp plan\"") && sidecar.contains("\"rewards\":\"0,2,5,10\""))
        #expect(sidecar.contains("\"blas\":{"), "the one machine record, with BLAS")

        // A fixed (U, R) that does not divide the heads is a usage error; too many devices is infeasible.
        expectUsageError(try CLIRunner.run(["dbsp", "plan", "--heads", "8", "--ulysses", "3", "--ring", "1", "--out", out.path]))
        let infeasible = try CLIRunner.run(["dbsp", "plan", "--heads", "2", "--blocks", "2", "--devices", "64", "--out", out.path])
        #expect(infeasible.status == 3 && infeasible.stderr.split(separator: "\n").last?.hasPrefix("error: ") == true)
    }

    @Test func dbspPlanReadsMaskFilesAndRejectsBadOnes() throws {
        let dir = try CLIRunner.tempDir()
        var m = Tensor<Double>(heads: 4, rows: 4, cols: 4, logicalRank: 3)
        for h in 0..<4 { for i in 0..<4 { for j in 0...min(3, h) { m[h, i, (i + j) % 4] = 1 } } }
        let good = dir.appendingPathComponent("mask.npy")
        try Npy.write(m, to: good.path)
        let out = dir.appendingPathComponent("plan.csv")
        let r = try CLIRunner.run(["dbsp", "plan", "--mask", good.path, "--ulysses", "2", "--ring", "1", "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        // Densities 1,2,3,4 per head: contiguous groups {1,2},{3,4} give ρ = 7/5; balanced {4,1},{3,2} give 1.
        let plan = try csv(out)
        #expect(column(plan, "rho_contiguous") == ["1.4"] && column(plan, "rho_balanced") == ["1"])
        m[0, 0, 0] = 0.5
        try Npy.write(m, to: good.path)
        expectUsageError(try CLIRunner.run(["dbsp", "plan", "--mask", good.path, "--out", out.path]))
    }

    @Test func pruneOperatorsMatchTheirReferences() throws {
        let dir = try CLIRunner.tempDir()
        var rng = Xoshiro256StarStar(seed: 4)
        var paths: [String] = []
        for name in ["q", "k", "v"] {
            let x: Tensor<Float> = InputDistribution.uniform.sample(heads: 2, rows: 20, cols: 4, bound: 2, using: &rng)
            let p = dir.appendingPathComponent("\(name).npy").path
            try Npy.write(x, to: p)
            paths.append(p)
        }
        let io = ["--q", paths[0], "--k", paths[1], "--v", paths[2], "--vision", "3:12"]
        for extra in [["--mode", "shallow", "--sink", "3"], ["--mode", "shallow", "--causal"],
                      ["--mode", "middle", "--tokens-threshold", "0.02"], ["--mode", "deep"]] {
            let out = dir.appendingPathComponent("p.csv")
            let r = try CLIRunner.run(["prune"] + io + extra + ["--out", out.path])
            #expect(r.status == 0, "\(r.stderr)")
            let rows = try csv(out)
            #expect(Double(column(rows, "max_abs_error")[0])! < 1e-5)
            let saved = Double(column(rows, "flops_saved_fraction")[0])!
            #expect(saved >= 0 && saved <= 1)
        }
        let deep = try csv(dir.appendingPathComponent("p.csv"))
        #expect(column(deep, "kept_tokens") == ["11"])
        expectUsageError(try CLIRunner.run(["prune", "--q", paths[0], "--k", paths[1], "--v", paths[2], "--vision", "3:50",
                                            "--mode", "deep", "--out", dir.appendingPathComponent("x.csv").path]))
        expectUsageError(try CLIRunner.run(["prune"] + io + ["--mode", "middle", "--sink", "3",
                                                             "--out", dir.appendingPathComponent("x.csv").path]))
        var bad: Tensor<Float> = InputDistribution.uniform.sample(heads: 2, rows: 20, cols: 4, bound: 1, using: &rng)
        bad[flat: 5] = .nan
        try Npy.write(bad, to: paths[0])
        expectUsageError(try CLIRunner.run(["prune"] + io + ["--mode", "deep", "--out", dir.appendingPathComponent("x.csv").path]))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.csv").path))
    }

    @Test func benchSparsePrintsOneJSONObject() throws {
        let r = try CLIRunner.run(["bench", "sparse", "--n", "512", "--q-tile", "64", "--k-tile", "64", "--runs", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        let obj = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        #expect((obj["block_sparse"] as! [Any]).count == 10)
        for row in obj["dbsp"] as! [[String: Any]] {
            #expect((row["rho_balanced"] as! Double) <= (row["rho_contiguous"] as! Double))
        }
    }
}
