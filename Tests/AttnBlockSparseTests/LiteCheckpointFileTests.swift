import AttnBlockSparse
import AttnCore
import Foundation
import Testing

/// `LiteCheckpoint.load(from:fingerprint:)` and `save(to:)`: the `lite --checkpoint` file.
@Suite struct LiteCheckpointFileTests {
    static func temp(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("lite-ck-\(UUID().uuidString)-\(name)").path
    }

    @Test func roundTripsWithNonFiniteNumbersAndChecksTheFingerprint() throws {
        let path = Self.temp("ok.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try LiteCheckpoint.load(from: path, fingerprint: "a") == nil)  // none yet: start afresh
        let row = LiteStepReport(
            step: 0, computedTiles: 3, totalTiles: 4, skippedFraction: 0.25, newlyMarked: 1,
            maxAbsError: .infinity, seconds: 0.5, denseSeconds: 0.25)
        let c = LiteCheckpoint(fingerprint: "a", rows: [row], state: LiteSkipState())
        try c.save(to: path)
        #expect(try LiteCheckpoint.load(from: path, fingerprint: "a") == c)
        #expect(throws: AttnError.usage(.checkpoint, "\(path): written by a run with other parameters")) {
            try LiteCheckpoint.load(from: path, fingerprint: "b")
        }
        #expect(row.csvFields == ["0", "3", "4", "0.25", "1", "inf", "0.5", "0.25", "2"])
        #expect(LiteStepReport.csvHeader.count == row.csvFields.count)
    }

    @Test func junkIsAUsageErrorNamingTheCheckpoint() throws {
        let path = Self.temp("junk.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "not json".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: AttnError.usage(.checkpoint, "\(path): not a lite checkpoint")) {
            try LiteCheckpoint.load(from: path, fingerprint: "a")
        }
    }
}
