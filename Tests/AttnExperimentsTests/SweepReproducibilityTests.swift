import AttnCore
import AttnExperiments
import AttnPoly
import Foundation
import PropertyBased
import Testing

/// The CSV is a function of the configuration alone: the same bytes for any
/// thread count, after a crash and `resume`, and after merging shards.
struct SweepReproducibilityTests {
    let backend = AttnPolyBackend()

    func run(
        _ cfg: SweepConfiguration, threads: Int, dir: URL, shard: Shard = .whole, resume: Bool = false,
        backend: (any PolynomialBackend)? = nil
    ) throws -> SweepResult {
        try SweepRunner(
            configuration: cfg, backend: backend ?? self.backend, shard: shard, threads: threads,
            directory: dir
        ).run(resume: resume, version: "test")
    }

    @Test func sameBytesForOneAndTwoThreads() throws {
        let cfg = smallConfiguration()
        let a = try run(cfg, threads: 1, dir: try temporaryFolder())
        let b = try run(cfg, threads: 2, dir: try temporaryFolder())
        #expect(a.csvText == b.csvText)
        #expect(try readText(a.csv) == a.csvText)
        #expect(
            !FileManager.default.fileExists(atPath: a.csv.path + ".partial"), "partial file removed after publishing")
    }

    @Test func differentSeedsGiveDifferentData() throws {
        let a = try run(smallConfiguration(seed: 1), threads: 2, dir: try temporaryFolder())
        let b = try run(smallConfiguration(seed: 2), threads: 2, dir: try temporaryFolder())
        #expect(a.csvText != b.csvText)
    }

    /// A crash at any call leaves a partial file and no CSV; `resume` then
    /// writes exactly the uninterrupted run's bytes, measuring only what was missing.
    @Test(arguments: [1, 5, 17, 40])
    func resumeAfterCrashIsByteIdentical(crashAt: Int) throws {
        let cfg = smallConfiguration()
        let reference = try run(cfg, threads: 2, dir: try temporaryFolder()).csvText
        let dir = try temporaryFolder()
        let crashing = CrashingBackend(inner: backend, crashAt: crashAt)
        #expect(throws: CrashingBackend.Crash.self) { try run(cfg, threads: 1, dir: dir, backend: crashing) }
        let runner = SweepRunner(configuration: cfg, backend: backend, threads: 2, directory: dir)
        #expect(!FileManager.default.fileExists(atPath: runner.csvURL.path), "no final CSV after a crash")
        #expect(FileManager.default.fileExists(atPath: runner.partialURL.path))
        let resumed = try run(cfg, threads: 2, dir: dir, resume: true)
        #expect(resumed.csvText == reference)
        #expect(resumed.pointsMeasured < resumed.pointsInShard || crashAt == 1)
    }

    /// A torn last record (the process killed inside a write) is dropped on resume.
    @Test(arguments: [1, 9, 30])
    func tornLastRecordIsDropped(tailBytes: Int) throws {
        let cfg = smallConfiguration()
        let reference = try run(cfg, threads: 2, dir: try temporaryFolder()).csvText
        let dir = try temporaryFolder()
        #expect(throws: CrashingBackend.Crash.self) {
            try run(cfg, threads: 1, dir: dir, backend: CrashingBackend(inner: backend, crashAt: 20))
        }
        let partial = SweepRunner(configuration: cfg, backend: backend, threads: 1, directory: dir).partialURL
        // Append the first bytes of a record copied from the file: a torn write.
        var data = try Data(contentsOf: partial)
        let lines = data.split(separator: UInt8(ascii: "\n"))
        data.append(contentsOf: lines[lines.count - 1].prefix(tailBytes))
        try data.write(to: partial)
        #expect(try run(cfg, threads: 2, dir: dir, resume: true).csvText == reference)
    }

    @Test func resumeRefusesOtherParameters() throws {
        let dir = try temporaryFolder()
        #expect(throws: CrashingBackend.Crash.self) {
            try run(
                smallConfiguration(seed: 1), threads: 1, dir: dir, backend: CrashingBackend(inner: backend, crashAt: 3))
        }
        #expect(throws: AttnError.self) { try run(smallConfiguration(seed: 2), threads: 1, dir: dir, resume: true) }
    }

    /// A partial file or a published CSV of the column layout before `c` and `measured_error` is not
    /// resumed into the new layout: the partial file is refused (its rows lack the columns), the CSV
    /// measured again.
    @Test func resumeNeverMixesColumnLayouts() throws {
        let cfg = smallConfiguration()
        let reference = try run(cfg, threads: 2, dir: try temporaryFolder()).csvText
        let dir = try temporaryFolder()
        #expect(throws: CrashingBackend.Crash.self) {
            try run(cfg, threads: 1, dir: dir, backend: CrashingBackend(inner: backend, crashAt: 5))
        }
        let runner = SweepRunner(configuration: cfg, backend: backend, threads: 1, directory: dir)
        let v2 = try readText(runner.partialURL)
        try Data(v2.replacingOccurrences(of: "sweep partial v2", with: "sweep partial v1").utf8)
            .write(to: runner.partialURL)
        let refused = #expect(throws: AttnError.self) { try run(cfg, threads: 1, dir: dir, resume: true) }
        #expect(refused?.parameter == .resume)
        try FileManager.default.removeItem(at: runner.partialURL)
        _ = try run(cfg, threads: 2, dir: dir)
        let keep = SweepCSV.legacyColumns.count
        let legacy = reference.split(separator: "\n").map { CSV.row(Array(CSV.parseRow($0).prefix(keep))) }.joined()
        try Data(legacy.utf8).write(to: runner.csvURL)
        let again = try run(cfg, threads: 2, dir: dir, resume: true)
        #expect(again.csvText == reference && again.pointsMeasured == again.pointsInShard)
    }

    /// Shards partition the points; merging them reproduces the single run.
    @Test(arguments: [1, 2, 3, 5])
    func shardsMergeToTheSingleRun(count: Int) throws {
        let cfg = smallConfiguration()
        let reference = try run(cfg, threads: 2, dir: try temporaryFolder()).csvText
        let dir = try temporaryFolder()
        var csvs: [URL] = []
        for i in 1...count { csvs.append(try run(cfg, threads: 1, dir: dir, shard: Shard(index: i, count: count)).csv) }
        let merged = dir.appendingPathComponent("merged.csv")
        try SweepMerge.merge(csvs.reversed(), into: merged, version: "test")
        #expect(try readText(merged) == reference)
    }

    @Test func mergeRejectsMissingOrForeignShards() throws {
        let dir = try temporaryFolder(), other = try temporaryFolder()
        let s1 = try run(smallConfiguration(), threads: 1, dir: dir, shard: Shard(index: 1, count: 2)).csv
        let s2 = try run(smallConfiguration(), threads: 1, dir: dir, shard: Shard(index: 2, count: 2)).csv
        let foreign = try run(smallConfiguration(seed: 99), threads: 1, dir: other, shard: Shard(index: 2, count: 2))
            .csv
        let out = dir.appendingPathComponent("m.csv")
        #expect(throws: AttnError.self) { try SweepMerge.merge([s1], into: out, version: "t") }
        #expect(throws: AttnError.self) { try SweepMerge.merge([s1, s1], into: out, version: "t") }
        #expect(throws: AttnError.self) { try SweepMerge.merge([s1, foreign], into: out, version: "t") }
        #expect(!FileManager.default.fileExists(atPath: out.path))
        try SweepMerge.merge([s2, s1], into: out, version: "t")
        #expect(FileManager.default.fileExists(atPath: out.path))
    }

    /// Every point belongs to exactly one shard, for any shard count.
    @Test func shardsPartitionThePoints() async {
        await propertyCheck(count: 200, input: Gen.int(in: 1...40), Gen.int(in: 0...100_000)) { n, k in
            let owners = (1...n).filter { Shard(index: $0, count: n).owns(k) }
            #expect(owners.count == 1)
        }
    }
}
