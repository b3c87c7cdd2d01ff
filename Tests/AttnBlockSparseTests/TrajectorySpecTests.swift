import AttnBlockSparse
import AttnCore
import Testing

/// `TrajectorySpec`: each parameter out of range is named; a replay skips the generated
/// trajectory's checks and parameters; the config carries the tiles and forced ranges.
@Suite struct TrajectorySpecTests {
    func named(_ edit: (inout TrajectorySpec) -> Void) -> Parameter? {
        var t = smallTrajectory()
        edit(&t)
        return usageParameter { try t.validate() }
    }

    @Test func eachBadParameterIsNamed() {
        #expect(named { _ in } == nil)
        #expect(named { $0.qTile = 0 } == .qTile)
        #expect(named { $0.kTile = 65537 } == .kTile)
        #expect(named { $0.frames = 0 } == .frames)
        #expect(named { $0.height = 4097 } == .height)
        #expect(named { $0.width = 0 } == .width)
        #expect(named { ($0.frames, $0.height, $0.width) = (64, 64, 64) } == .frames)  // too many tokens
        #expect(named { $0.heads = 0 } == .heads)
        #expect(named { $0.d = 1025 } == .d)
        #expect(named { $0.steps = 0 } == .steps)
        #expect(named { $0.bandwidth = 0 } == .bandwidth)
        #expect(named { $0.signal = .infinity } == .signal)
        #expect(named { $0.noise = -1 } == .noise)
        #expect(named { $0.correlation = 1.5 } == .correlation)
        #expect(named { ($0.replay, $0.frames) = ("/some/folder", 0) } == nil)  // the replay's sizes are the files'
    }

    @Test func parametersAndConfig() {
        var t = smallTrajectory()
        t.mustDo = [0..<8]
        let keys = t.parameters(Float.self).map(\.0)
        #expect(keys.contains("frames") && keys.contains("correlation") && t.inputSeed == 1)
        #expect(t.parameters(Double.self).contains { $0.0 == "precision" && $0.1 == "float64" })
        #expect(t.parameters(Float.self).contains { $0.0 == "must_do" && $0.1 == .array(["0:8"]) })
        t.replay = "/some/folder"
        #expect(!t.parameters(Float.self).map(\.0).contains("frames") && t.inputSeed == nil)
        let c = t.config(threshold: -3)
        #expect(c.threshold == -3 && c.tiles.queryTile == 8 && c.mustDo == [0..<8])
    }
}
