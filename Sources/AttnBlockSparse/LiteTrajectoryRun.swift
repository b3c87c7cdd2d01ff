import AttnCore
import AttnKernels

/// One row of a LiteAttention trajectory run.
public struct LiteStepReport: Sendable, Equatable {
    public var step: Int
    public var computedTiles: Int
    public var totalTiles: Int
    public var skippedFraction: Double
    /// Tiles marked at this step (skipped from the next step on).
    public var newlyMarked: Int
    /// max |O_lite − O_exact| over all heads, rows and columns; the exact
    /// output is `FastAttention` in Float64 on the same inputs.
    public var maxAbsError: Double
    /// Wall time of the LiteAttention step and of the dense fast kernel
    /// (same precision, same threads), measured back to back.
    public var seconds: Double
    public var denseSeconds: Double
}

/// Runs LiteAttention over every step of a trajectory.
public enum LiteTrajectoryRun {
    /// - Parameters:
    ///   - resetEvery: reset the skip lists every this many steps (nil: never).
    ///   - progress: called after each step (for stderr progress lines).
    public static func run<S: TrajectorySource>(_ source: inout S, scale: Scale, config: LiteConfig,
                                                resetEvery: Int? = nil, threads: Int? = nil,
                                                progress: (LiteStepReport) -> Void = { _ in }) throws -> [LiteStepReport]
    where S.Scalar: KernelScalar {
        var state = LiteSkipState()
        var rows: [LiteStepReport] = []
        var t = 0
        while let step = try source.next() {
            if let every = resetEvery, t > 0, t % every == 0 { state.reset() }
            var result: (output: Tensor<S.Scalar>, stats: LiteStepStats)?
            let seconds = try Timing.seconds {
                result = try LiteAttention.step(q: step.q, k: step.k, v: step.v, scale: scale, config: config,
                                                state: &state, threads: threads)
            }
            let dense = try Timing.seconds {
                _ = try FastAttention.compute(q: step.q, k: step.k, v: step.v, scale: scale, threads: threads)
            }
            let exact = try FastAttention.compute(q: step.q.converted(to: Double.self), k: step.k.converted(to: Double.self),
                                                  v: step.v.converted(to: Double.self), scale: scale, threads: threads)
            let r = result!
            let row = LiteStepReport(step: t, computedTiles: r.stats.work.computedTiles, totalTiles: r.stats.work.totalTiles,
                                     skippedFraction: r.stats.work.skippedFraction, newlyMarked: r.stats.newlyMarked,
                                     maxAbsError: ErrorMetrics.maxAbsDiff(r.output, exact), seconds: seconds,
                                     denseSeconds: dense)
            rows.append(row)
            progress(row)
            t += 1
        }
        return rows
    }
}
