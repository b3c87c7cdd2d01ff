import AttnCore
import AttnKernels

/// One row of a LiteAttention trajectory run.
public struct LiteStepReport: Sendable, Equatable, Codable {
    public var step: Int
    public var computedTiles: Int
    public var totalTiles: Int
    public var skippedFraction: Double
    /// Tiles marked at this step (skipped from the next step on).
    public var newlyMarked: Int
    /// max |O_lite − O_exact| + b over all heads, rows and columns: the exact output is
    /// `FastAttention` in Float64 on the same inputs, b its a-priori row bound (so this bounds the
    /// error against the true attention; NaN when an output is NaN). As `LiteCalibration` measures.
    public var maxAbsError: Double
    /// Wall time of the LiteAttention step and of the dense fast kernel
    /// (same precision, same threads), measured back to back.
    public var seconds: Double
    public var denseSeconds: Double

    public init(
        step: Int, computedTiles: Int, totalTiles: Int, skippedFraction: Double, newlyMarked: Int,
        maxAbsError: Double, seconds: Double, denseSeconds: Double
    ) {
        (self.step, self.computedTiles, self.totalTiles, self.skippedFraction) =
            (step, computedTiles, totalTiles, skippedFraction)
        (self.newlyMarked, self.maxAbsError, self.seconds, self.denseSeconds) =
            (newlyMarked, maxAbsError, seconds, denseSeconds)
    }
}

/// Everything needed to continue a run after step `rows.count − 1`.
public struct LiteCheckpoint: Sendable, Equatable, Codable {
    /// Identifies the run's parameters; a checkpoint resumes only the same run.
    public var fingerprint: String
    public var rows: [LiteStepReport]
    public var state: LiteSkipState
    public init(fingerprint: String, rows: [LiteStepReport], state: LiteSkipState) {
        self.fingerprint = fingerprint; self.rows = rows; self.state = state
    }
}

/// Runs LiteAttention over every step of a trajectory.
public enum LiteTrajectoryRun {
    /// - Parameters:
    ///   - schedule: per-step thresholds (from `LiteCalibration`); replaces `config.threshold` at
    ///     every step. Must cover every step of `source`.
    ///   - resetEvery: reset the skip lists every this many steps (nil: never).
    ///   - resume: continue from this checkpoint: its steps are read from
    ///     `source` and skipped, its rows and skip lists are taken as they are.
    ///   - checkpoint: called after each step with the state to save.
    ///   - progress: called after each step (for stderr progress lines).
    /// - Postcondition: the rows equal those of an uninterrupted run, timings aside.
    public static func run<S: TrajectorySource>(
        _ source: inout S, scale: Scale, config: LiteConfig,
        schedule: LiteSchedule? = nil, resetEvery: Int? = nil, threads: Int? = nil,
        resume: LiteCheckpoint? = nil, fingerprint: String = "",
        checkpoint: (LiteCheckpoint) throws -> Void = { _ in },
        progress: (LiteStepReport) -> Void = { _ in }
    ) throws -> [LiteStepReport]
    where S.Scalar: KernelScalar {
        if let schedule, schedule.thresholds.count < source.steps {
            throw AttnError.usage(
                "the threshold schedule has \(schedule.thresholds.count) steps, the trajectory \(source.steps)")
        }
        var state = resume?.state ?? LiteSkipState()
        var rows: [LiteStepReport] = resume?.rows ?? []
        for _ in 0..<rows.count { guard try source.next() != nil else { break } }
        var t = rows.count
        while let step = try source.next() {
            if let every = resetEvery, t > 0, t % every == 0 { state.reset() }
            var result: (output: Tensor<S.Scalar>, stats: LiteStepStats)?
            var config = config
            if let schedule { config.threshold = schedule.thresholds[t] }
            let seconds = try Timing.seconds {
                result = try LiteAttention.step(
                    q: step.q, k: step.k, v: step.v, scale: scale, config: config,
                    state: &state, threads: threads)
            }
            let dense = try Timing.seconds {
                _ = try FastAttention.compute(q: step.q, k: step.k, v: step.v, scale: scale, threads: threads)
            }
            // The same measure as calibration: |o − exact| plus the Float64 yardstick's own row bound.
            let all = Array(0..<step.q.rows)
            let exact = try LiteCalibration.exactRows(all, of: step, scale: scale, threads: threads)
            let r = result!
            let row = LiteStepReport(
                step: t, computedTiles: r.stats.work.computedTiles, totalTiles: r.stats.work.totalTiles,
                skippedFraction: r.stats.work.skippedFraction, newlyMarked: r.stats.newlyMarked,
                maxAbsError: LiteCalibration.errors(r.output, exact, rows: all).0, seconds: seconds,
                denseSeconds: dense)
            rows.append(row)
            try checkpoint(LiteCheckpoint(fingerprint: fingerprint, rows: rows, state: state))
            progress(row)
            t += 1
        }
        return rows
    }
}
