import AttnCore
import Foundation
import Testing

/// `attnbound sweep`, `merge` and `plot` end to end, through the built binary.
struct ExperimentsCLITests {
    /// A grid that runs in well under a second.
    static let tiny = [
        "--experiment", "degree-vs-b,error-vs-b,hard-instance", "--n", "64,128", "--c-steps", "4",
        "--trials", "2", "--rows", "16",
    ]

    func csv(_ dir: URL, _ stem: String = "sweep") throws -> String {
        try String(contentsOf: dir.appendingPathComponent(stem + ".csv"), encoding: .utf8)
    }

    @Test func defaultFolderGetsCSVSidecarAndSVG() throws {
        let cwd = try CLIRunner.tempDir()
        let r = try CLIRunner.run(["sweep", "--experiment", "degree-vs-b", "--n", "256", "--c-steps", "3"], cwd: cwd)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "no progress line when stderr is not a terminal")
        for ext in ["csv", "json", "svg"] {
            #expect(FileManager.default.fileExists(atPath: cwd.appendingPathComponent("out/sweep.\(ext)").path))
        }
        let sidecar =
            try JSONSerialization.jsonObject(with: Data(contentsOf: cwd.appendingPathComponent("out/sweep.json")))
            as? [String: Any]
        #expect(sidecar?["seed"] as? String == "1")
        #expect(sidecar?["machine"] != nil && sidecar?["parameters"] != nil && sidecar?["version"] != nil)
    }

    @Test func threadCountDoesNotChangeTheCSV() throws {
        let a = try CLIRunner.tempDir(), b = try CLIRunner.tempDir()
        let ra = try CLIRunner.run(["sweep"] + Self.tiny + ["--threads", "1", "--out", a.path])
        let rb = try CLIRunner.run(["sweep"] + Self.tiny + ["--threads", "2", "--out", b.path])
        #expect(ra.status == 0 && rb.status == 0, "\(ra.stderr) \(rb.stderr)")
        #expect(try csv(a) == csv(b))
    }

    @Test func shardsThenMergeEqualOneRun() throws {
        let whole = try CLIRunner.tempDir(), parts = try CLIRunner.tempDir()
        #expect(try CLIRunner.run(["sweep"] + Self.tiny + ["--out", whole.path]).status == 0)
        for i in 1...3 {
            let r = try CLIRunner.run(["sweep"] + Self.tiny + ["--shard", "\(i)/3", "--out", parts.path])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let merged = parts.appendingPathComponent("merged.csv").path
        let m = try CLIRunner.run([
            "merge", parts.appendingPathComponent("sweep.shard-2-of-3.csv").path,
            parts.appendingPathComponent("sweep.shard-3-of-3.csv").path,
            parts.appendingPathComponent("sweep.shard-1-of-3.csv").path, "-o", merged,
        ])
        #expect(m.status == 0, "\(m.stderr)")
        #expect(try String(contentsOfFile: merged, encoding: .utf8) == csv(whole))
        let missing = try CLIRunner.run([
            "merge", parts.appendingPathComponent("sweep.shard-1-of-3.csv").path,
            "-o", parts.appendingPathComponent("bad.csv").path,
        ])
        #expect(missing.status == 2)
        #expect(!FileManager.default.fileExists(atPath: parts.appendingPathComponent("bad.csv").path))
    }

    /// SIGKILL a real sweep once some points are on disk, resume it, and get
    /// the uninterrupted run's bytes.
    @Test func killedSweepResumesByteIdentical() throws {
        let grid = [
            "sweep", "--experiment", "erank-vs-b", "--n", "320", "--c-steps", "40", "--trials", "2", "--no-plot",
        ]
        let reference = try CLIRunner.tempDir(), dir = try CLIRunner.tempDir()
        #expect(try CLIRunner.run(grid + ["--out", reference.path]).status == 0)

        let p = Process()
        p.executableURL = CLIRunner.executable
        p.arguments = grid + ["--threads", "1", "--out", dir.path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let partial = dir.appendingPathComponent("sweep.csv.partial")
        var records = 0
        for _ in 0..<6000 where p.isRunning {  // up to 60 s under heavy load
            records = ((try? String(contentsOf: partial, encoding: .utf8)) ?? "").split(separator: "\n").count - 1
            if records >= 5 { break }
            usleep(10_000)
        }
        let killedEarly = p.isRunning
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(killedEarly, "the sweep finished before it could be killed; grid too small for this machine?")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("sweep.csv").path))

        let r = try CLIRunner.run(grid + ["--resume", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("resumed"))
        #expect(try csv(dir) == csv(reference))
        #expect(!FileManager.default.fileExists(atPath: partial.path))
    }

    @Test func plotWritesSVG() throws {
        let dir = try CLIRunner.tempDir()
        #expect(try CLIRunner.run(["sweep"] + Self.tiny + ["--no-plot", "--out", dir.path]).status == 0)
        let svg = dir.appendingPathComponent("fig.svg").path
        let r = try CLIRunner.run(["plot", dir.appendingPathComponent("sweep.csv").path, "-o", svg])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(text.hasPrefix("<svg") && text.contains("degree-vs-b") && text.contains("B / √ln n"))
    }

    @Test func jsonIsOneObjectOnOneLine() throws {
        let dir = try CLIRunner.tempDir()
        let r = try CLIRunner.run([
            "sweep", "--experiment", "degree-vs-b", "--n", "256", "--c-steps", "3", "--json",
            "--out", dir.path,
        ])
        #expect(r.status == 0)
        #expect(r.stdout.split(separator: "\n").count == 1)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(obj?["points_total"] as? Int == 3)
    }

    /// Bad flags: exit 2 (3 for infeasible sizes), one `error:` line, no output folder or file.
    @Test(
        arguments: [
            (["--n", "abc"], Int32(2)), (["--threads", "0"], 2), (["--shard", "4/3"], 2), (["--shard", "x"], 2),
            (["--experiment", "nope"], 2), (["--gamma", "-1"], 2), (["--C", "0"], 2),
            (["--c-min", "2", "--c-max", "1"], 2),
            (["--distribution", "cauchy"], 2), (["--family", "pade"], 2), (["--B", "1", "--c-steps", "3"], 2),
            (["--trials", "0"], 2), (["--bogus"], 2), (["--experiment", "erank-vs-b", "--n", "65536"], 3),
        ] as [([String], Int32)])
    func badFlags(args: [String], code: Int32) throws {
        let cwd = try CLIRunner.tempDir()
        let r = try CLIRunner.run(["sweep"] + args + ["--out", "res"], cwd: cwd)
        #expect(r.status == code, "\(args): \(r.stderr)")
        #expect(r.stderr.hasPrefix("error: "))
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cwd.appendingPathComponent("res").path))
    }

    @Test func plotAndMergeBadInputs() throws {
        let dir = try CLIRunner.tempDir()
        let garbage = dir.appendingPathComponent("g.csv")
        try "not,a,sweep\n1,2,3\n".write(to: garbage, atomically: true, encoding: .utf8)
        for args in [
            ["plot", garbage.path, "-o", dir.appendingPathComponent("x.svg").path],
            ["plot", dir.appendingPathComponent("missing.csv").path, "-o", dir.appendingPathComponent("x.svg").path],
            ["plot", garbage.path, "-o", dir.appendingPathComponent("nofolder/x.svg").path],
            ["merge", garbage.path, "-o", dir.appendingPathComponent("m.csv").path],
        ] {
            let r = try CLIRunner.run(args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.svg").path))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.csv").path))
    }
}
