import AttnBlockSparse
import AttnCore
import AttnExperiments
import Testing

/// `LiteCalibrationRequest`: bad settings are named; a run returns the schedule (one row per
/// step), the Pareto table (one row per grid threshold and −∞, plus the calibrated row) and
/// its figure.
@Suite struct LiteCalibrationRequestTests {
    func request(_ edit: (inout LiteCalibrationRequest) -> Void = { _ in }) -> LiteCalibrationRequest {
        var r = LiteCalibrationRequest()
        (r.trajectory.frames, r.trajectory.height, r.trajectory.width, r.trajectory.heads) = (2, 4, 8, 2)
        (r.trajectory.d, r.trajectory.steps, r.trajectory.qTile, r.trajectory.kTile) = (16, 4, 8, 8)
        r.trajectory.signal = 6
        edit(&r)
        return r
    }

    func named(_ edit: (inout LiteCalibrationRequest) -> Void) -> Parameter? {
        do { try request(edit).validate() } catch let e as AttnError { return e.parameter } catch { return nil }
        return nil
    }

    @Test func badSettingsAreNamed() {
        #expect(named { _ in } == nil)
        #expect(named { $0.settings.target = 0 } == .target)
        #expect(named { $0.settings.grid = [.nan] } == .grid)
        #expect(named { $0.settings.lookahead = 0 } == .lookahead)
        #expect(named { $0.settings.lookahead = 101 } == .lookahead)
        #expect(named { $0.settings.sampleRows = 0 } == .liteSampleRows)
        #expect(named { $0.trajectory.noise = -1 } == .noise)
    }

    @Test func scheduleParetoAndFigure() throws {
        let o = try request { $0.settings.grid = [-8, -4, -2] }.run(as: Float.self)
        #expect(o.schedule.table?.header == ["step", "thr"] && o.schedule.table?.rows.count == 4)
        #expect(o.pareto.table?.rows.count == 5)  // −∞, −8, −4, −2, calibrated
        #expect(o.svg.hasPrefix("<svg") || o.svg.hasPrefix("<?xml"))
        #expect(o.schedule.text.first?.hasPrefix("lite calibrate: 4 steps") == true)
        #expect(o.schedule.parameters.contains { $0.0 == "verification" })
    }
}
