import AttnBlockSparse
import AttnCore
import Testing

/// `SparseBenchmark` on a tiny problem: the report's shape only (speed is measured by
/// `attnbound bench sparse`, never in tests).
@Suite struct SparseBenchmarkTests {
    @Test func reportHasTenFractionsAndEightBalancingRows() throws {
        var s = SparseBenchmark.Setup()
        (s.n, s.d, s.queryTile, s.keyTile, s.threads, s.runs) = (64, 4, 8, 8, 1, 1)
        let r = try SparseBenchmark.run(s)
        #expect(r.speed.map(\.targetSkipped) == (0...9).map { Double($0) / 10 })
        #expect(r.speed[0].skipped == 0 && r.speed.allSatisfy { (0..<1).contains($0.skipped) })
        #expect(r.balance.count == 8 && r.balance.allSatisfy { $0.balancedImbalance <= $0.contiguousImbalance + 1e-12 })
        let json = r.json.serialized()
        #expect(json.contains("\"benchmark\":\"sparse\"") && json.contains("\"blas\":{"))
        #expect(json.contains("\"lite_seconds\":") && json.contains("\"lite_ratio\":"))
        #expect(r.speed.allSatisfy { $0.liteSeconds > 0 && $0.liteRatio > 0 })
        #expect(r.text.split(separator: "\n", omittingEmptySubsequences: false).count == 4 + 10 + 1 + 2 + 8)
    }
}
