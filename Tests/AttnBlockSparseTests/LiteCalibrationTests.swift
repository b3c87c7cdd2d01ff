import AttnBlockSparse
import AttnCore
import AttnKernels
import Foundation
import PropertyBased
import Testing

/// A trajectory held in memory.
struct ArrayTrajectory<T: AttnScalar>: TrajectorySource {
    let items: [AttentionStep<T>]
    var t = 0
    init(_ items: [AttentionStep<T>]) { self.items = items }
    var steps: Int { items.count }
    mutating func next() throws -> AttentionStep<T>? {
        guard t < items.count else { return nil }
        t += 1
        return items[t - 1]
    }
}

@Suite struct LiteCalibrationTests {
    let tiles = TileSizes(queryTile: 16, keyTile: 16)

    /// 16 frames of 4 × 4 tokens: eight 2-frame k-tiles per head, local attention, a smooth trajectory.
    func trajectory(seed: Int, steps: Int = 10) throws -> [AttentionStep<Float>] {
        var s = DiffusionTrajectory<Float>(
            shape: VideoShape(frames: 16, height: 4, width: 4), heads: 2, d: 32, steps: steps,
            seed: UInt64(seed), bandwidth: 1.5, signal: 12, noise: 1, correlation: 0.98)
        return try LiteCalibration.collect(&s)
    }

    /// Proofs/lite-skip-rule.md, "Calibration": on the fitted trajectory every step of the scheduled
    /// run is within the target (here on every row), and the schedule never decreases.
    @Test func calibratedScheduleMeetsTheTargetOnTheFittedTrajectory() async throws {
        await propertyCheck(count: 4, input: Gen.int(in: 0...1_000_000), Gen.double(in: -9 ... -3)) {
            seed, log10Target in
            _ = try checkCalibration(seed: seed, target: Foundation.pow(10, log10Target / 3))  // 1e-3 … 0.1
        }
    }

    /// The same check on an explicit case where calibration must skip something (a random target near
    /// 1e-3 may leave every tile computed, so "skips something" is not a property of every input).
    @Test func calibratedScheduleSkipsAtOnePercent() throws {
        #expect(try checkCalibration(seed: 5, target: 1e-2))
    }

    /// Calibrates, reruns the schedule, checks every step against `target`; returns whether any tile was skipped.
    func checkCalibration(seed: Int, target: Double) throws -> Bool {
        let steps = try trajectory(seed: seed)
        let settings = LiteCalibrationSettings(target: target, grid: Array(stride(from: -16.0, through: 2, by: 2)))
        let r = try LiteCalibration.calibrate(
            steps: steps, scale: .standard, config: LiteConfig(threshold: 0, tiles: tiles),
            settings: settings, threads: 1)
        #expect(r.schedule.isNonDecreasing)
        var source = ArrayTrajectory(steps)
        let run = try LiteTrajectoryRun.run(
            &source, scale: .standard, config: LiteConfig(threshold: 0, tiles: tiles),
            schedule: r.schedule, threads: 1)
        for (row, m) in zip(run, r.steps) {
            #expect(row.maxAbsError <= target, "step \(row.step): \(row.maxAbsError) > target \(target)")
            #expect(row.computedTiles == m.computedTiles && abs(row.maxAbsError - m.maxAbsError) <= 1e-12)
        }
        // The calibrated point of the Pareto table is the verification run (the greedy search is
        // not promised to beat every constant threshold, so that is not tested).
        #expect(r.pareto.last!.meetsTarget)
        return run.contains(where: { $0.skippedFraction > 0 })
    }

    /// What calibration cannot promise: a schedule fitted while a key tile is far from every query
    /// skips it for good; if the tile then moves next to the queries, the error is large.
    @Test func calibrationDoesNotCarryToADriftingTrajectory() throws {
        let steps = try trajectory(seed: 5)
        let r = try LiteCalibration.calibrate(
            steps: steps, scale: .standard, config: LiteConfig(threshold: 0, tiles: tiles),
            settings: LiteCalibrationSettings(target: 1e-2, grid: Array(stride(from: -16.0, through: 2, by: 2))),
            threads: 1)
        let final = r.steps.last!
        #expect(final.computedTiles < final.totalTiles)
        // Later steps: every skipped key tile is replaced by a copy of the query rows of the same tile
        // (scaled up), so those keys now dominate their rows' softmax.
        var drifted = steps
        var state = LiteSkipState()
        var probe = ArrayTrajectory(steps)
        for t in 0..<steps.count {
            let s = try probe.next()!
            _ = try LiteAttention.step(
                q: s.q, k: s.k, v: s.v, scale: .standard,
                config: LiteConfig(threshold: r.schedule.thresholds[t], tiles: tiles), state: &state)
        }
        let mask = state.computeMask
        var skipped: (h: Int, qt: Int, kt: Int)?
        for h in 0..<2 {
            for qt in 0..<mask.qTiles { for kt in 0..<mask.kTiles where !mask[h, qt, kt] { skipped = (h, qt, kt) } }
        }
        let (h, qt, kt) = try #require(skipped)
        // A later step: the keys of a skipped tile move onto (3 ×) the queries of a q-tile that skips them.
        var later = steps.last!
        for j in 0..<16 { for c in 0..<32 { later.k[h, kt * 16 + j, c] = 3 * later.q[h, qt * 16 + j, c] } }
        var source = ArrayTrajectory(steps + [later])
        let run = try LiteTrajectoryRun.run(
            &source, scale: .standard, config: LiteConfig(threshold: 0, tiles: tiles),
            schedule: LiteSchedule(thresholds: r.schedule.thresholds + [r.schedule.thresholds.last!]))
        #expect(run.dropLast().allSatisfy { $0.maxAbsError <= 1e-2 })
        #expect(run.last!.maxAbsError > 0.1)
    }

    /// The relation calibration relies on: the list a step writes under θ is exactly {computed tiles with λ > θ}.
    @Test func levelsPredictTheWrittenList() async throws {
        await propertyCheck(count: 10, input: Gen.int(in: 0...1_000_000), Gen.double(in: -14...1)) { seed, thr in
            let steps = try trajectory(seed: seed, steps: 3)
            var state = LiteSkipState()
            for s in steps {
                let cfg = LiteConfig(threshold: thr, tiles: tiles, mustDo: [40..<41])
                var copy = state
                var levels: [Double]? = []
                _ = try LiteAttention.step(
                    q: s.q, k: s.k, v: s.v, scale: .standard, config: cfg, state: &copy, threads: nil,
                    levels: &levels)
                _ = try LiteAttention.step(q: s.q, k: s.k, v: s.v, scale: .standard, config: cfg, state: &state)
                #expect(state.computeMask.bits == levels!.map { $0 > thr })
            }
        }
    }

    @Test func scheduleFilesRoundTripAndRejectBadLines() throws {
        let s = LiteSchedule(thresholds: [-.infinity, -12, -8.5, 0])
        #expect(try LiteSchedule(csv: s.csv) == s)
        #expect(s.csv.hasPrefix("step,thr\n0,-inf\n1,-12\n2,-8.5\n"))
        for bad in [
            "", "step,threshold\n0,1\n", "step,thr\n1,-3\n", "step,thr\n0,nan\n", "step,thr\n0,abc\n", "step,thr\n",
        ] {
            #expect(throws: AttnError.self) { try LiteSchedule(csv: bad) }
        }
        var source = ArrayTrajectory(try trajectory(seed: 1, steps: 3))
        #expect(throws: AttnError.self) {
            try LiteTrajectoryRun.run(
                &source, scale: .standard, config: LiteConfig(threshold: 0, tiles: tiles),
                schedule: LiteSchedule(thresholds: [-3, -3]))
        }
    }

    @Test func unreachableTargetIsInfeasible() throws {
        let steps = try trajectory(seed: 2, steps: 3)
        #expect(throws: AttnError.self) {
            try LiteCalibration.calibrate(
                steps: steps, scale: .standard, config: LiteConfig(threshold: 0, tiles: tiles),
                settings: LiteCalibrationSettings(target: 1e-12), threads: 1)
        }
    }
}
