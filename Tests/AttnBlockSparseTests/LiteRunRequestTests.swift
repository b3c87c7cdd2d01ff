import AttnBlockSparse
import AttnCore
import Foundation
import Testing

/// `LiteRunRequest`: bad parameters are named; a run reports one row per step; a run resumed
/// from its checkpoint reports the same rows (timings aside); a schedule file that is not one
/// is named by `.thrSchedule`.
@Suite struct LiteRunRequestTests {
    func request(_ edit: (inout LiteRunRequest) -> Void = { _ in }) -> LiteRunRequest {
        var r = LiteRunRequest()
        r.trajectory = smallTrajectory()
        edit(&r)
        return r
    }

    @Test func badParametersAreNamed() {
        #expect(usageParameter { try request { $0.threshold = .nan }.validate() } == .threshold)
        #expect(usageParameter { try request { $0.resetEvery = 0 }.validate() } == .resetEvery)
        #expect(usageParameter { try request { $0.trajectory.qTile = 0 }.validate() } == .qTile)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lite-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let junk = dir.appendingPathComponent("s.csv")
        try? Data("not,a\nschedule".utf8).write(to: junk)
        #expect(usageParameter { _ = try request { $0.schedule = junk.path }.run(as: Float.self) } == .thrSchedule)
    }

    @Test func oneRowPerStepAndResumeGivesTheSameRows() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ck = dir.appendingPathComponent("ck.json").path
        var notes: [String] = []
        let full = try request { $0.threshold = -3 }.run(as: Float.self) { notes.append($0) }
        #expect(full.table?.rows.count == 4 && notes.count == 4 && full.seed == 1)
        #expect(
            full.table?.header == LiteStepReport.csvHeader
                && full.text.first?.hasPrefix("lite: seed 1, 4 steps") == true)
        // A finished run's checkpoint, then a run resumed from it: the same rows, timings aside.
        let two = request { ($0.threshold, $0.checkpoint) = (-3, ck) }
        _ = try two.run(as: Float.self)
        #expect(FileManager.default.fileExists(atPath: ck))  // left for the caller to remove
        let resumed = try two.run(as: Float.self) { notes.append($0) }
        let strip = { (rows: [[String]]?) in rows?.map { Array($0.prefix(6)) } }
        #expect(strip(resumed.table?.rows) == strip(full.table?.rows))
        #expect(notes.contains { $0.hasPrefix("lite: resuming from \(ck) after step 3") })
    }
}
