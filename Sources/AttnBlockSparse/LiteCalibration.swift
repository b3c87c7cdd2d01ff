import AttnCore
import AttnKernels
import Foundation

/// How a step's error is measured against exact attention, on the sampled rows.
public enum LiteErrorMetric: String, Sendable, CaseIterable, Codable {
    /// max |O_lite − O_exact| over the sampled rows, all heads and columns.
    case maxAbs = "max-abs"
    /// ‖O_lite − O_exact‖₂ / ‖O_exact‖₂ over the sampled rows (Frobenius norms).
    case relativeL2 = "relative-l2"
}

/// What `LiteCalibration` aims for and how it searches.
public struct LiteCalibrationSettings: Sendable, Equatable {
    /// The per-step error allowed (in `metric`), > 0.
    public var target: Double
    public var metric: LiteErrorMetric
    /// Candidate thresholds (log₂ units); −∞ (never skip) is always added.
    public var grid: [Double]
    /// Query rows per head measured against exact attention at every step (nil: all rows).
    public var sampleRows: Int?
    /// Seed of the row sample.
    public var seed: UInt64
    /// After each step's decision, this many later steps are run without new skips and must
    /// stay within the target (≥ 1).
    public var lookahead: Int
    /// Keep the schedule non-decreasing in t (stricter early, as LiteAttention's Wan2.1 thresholds).
    public var monotone: Bool

    public init(
        target: Double, metric: LiteErrorMetric = .maxAbs,
        grid: [Double] = Array(stride(from: -20.0, through: 0, by: 1)),
        sampleRows: Int? = nil, seed: UInt64 = 0, lookahead: Int = 2, monotone: Bool = true
    ) {
        self.target = target; self.metric = metric; self.grid = grid; self.sampleRows = sampleRows
        self.seed = seed; self.lookahead = lookahead; self.monotone = monotone
    }

    /// - Throws: `AttnError.usage` naming the setting out of range.
    public func validate() throws {
        try Parameter.target.require(target > 0 && target.isFinite, "must be positive and finite")
        try Parameter.grid.require(!grid.isEmpty && !grid.contains(where: \.isNaN), "expected numbers, -inf or inf")
        try Parameter.lookahead.require(lookahead >= 1, "must be at least 1 step")
        try Parameter.liteSampleRows.require((sampleRows ?? 1) >= 1, "must be at least 1")
    }
}

/// One step of a run, measured on the sampled rows.
public struct LiteMeasuredStep: Sendable, Equatable {
    public var step: Int
    public var threshold: Double
    public var computedTiles: Int
    public var totalTiles: Int
    public var newlyMarked: Int
    public var maxAbsError: Double
    public var relativeL2Error: Double
    public var skippedFraction: Double { totalTiles == 0 ? 0 : 1 - Double(computedTiles) / Double(totalTiles) }
    public func error(_ m: LiteErrorMetric) -> Double { m == .maxAbs ? maxAbsError : relativeL2Error }
}

/// One point of the Pareto table: a whole run at one schedule.
public struct LiteParetoPoint: Sendable, Equatable {
    /// The constant threshold, or nil for the calibrated schedule.
    public var threshold: Double?
    /// Skipped tiles over all tiles of all steps, and over the steps t ≥ ⌊T/2⌋.
    public var skippedFraction: Double
    public var secondHalfSkippedFraction: Double
    /// Largest per-step error, in each metric.
    public var maxAbsError: Double
    public var maxRelativeL2Error: Double
    /// Every step within the target.
    public var meetsTarget: Bool
    /// No other constant threshold skips at least as much with at most the same error (in the target's metric).
    public var paretoOptimal: Bool

    init(threshold: Double?, steps: [LiteMeasuredStep], settings: LiteCalibrationSettings) {
        self.threshold = threshold
        skippedFraction = LiteCalibration.skipped(steps[...])
        secondHalfSkippedFraction = LiteCalibration.skipped(steps[(steps.count / 2)...])
        // NaN-propagating maxima: Swift's max() drops a NaN (issue 23).
        maxAbsError = steps.reduce(0) { $0.isNaN || $1.maxAbsError.isNaN ? .nan : max($0, $1.maxAbsError) }
        maxRelativeL2Error = steps.reduce(0) {
            $0.isNaN || $1.relativeL2Error.isNaN ? .nan : max($0, $1.relativeL2Error)
        }
        meetsTarget = steps.allSatisfy { $0.error(settings.metric) <= settings.target }
        paretoOptimal = false
    }

    public func maxError(_ m: LiteErrorMetric) -> Double { m == .maxAbs ? maxAbsError : maxRelativeL2Error }
}

public struct LiteCalibrationResult: Sendable {
    public var schedule: LiteSchedule
    /// The verification run of `schedule` on the fitted trajectory (every step within the target).
    public var steps: [LiteMeasuredStep]
    /// One point per grid threshold (constant schedule), then the calibrated schedule (threshold nil).
    public var pareto: [LiteParetoPoint]
    /// Times the verification found a step over the target and tightened an earlier threshold.
    public var repairs: Int
    /// The sampled query rows (the same for every head and step).
    public var sampledRows: [Int]
}

/// Per-step threshold calibration for LiteAttention (the tool LiteAttention's issue 19 asks for).
///
/// Algorithm. Step t's own output does not depend on its threshold (tiles marked at t are still
/// absorbed at t); the threshold only decides which tiles are skipped from t + 1 on. So, going
/// forward from a fresh skip state, at each step:
/// 1. run the step once and read every tile's level λ (`LiteAttention.step(levels:)`); the list
///    written under threshold θ is exactly {computed tiles with λ > θ}, for every θ at once;
/// 2. try the grid thresholds from the largest down and keep the first whose written list lets the
///    next `lookahead` steps (run with no further skips) stay within the target on the sampled rows;
///    −∞ (mark nothing new) when none does.
/// With `monotone`, the schedule is then replaced by its running minimum from the end, so it never
/// decreases. Finally the schedule is *verified* by running it over the whole trajectory: at the first
/// step over the target, the threshold of the latest earlier step that marked tiles is lowered by one grid
/// notch (and, with `monotone`, every earlier threshold clamped to it), and the run repeats from there.
/// Lowering ends at −∞ everywhere, which is exact attention up to the kernel's rounding.
///
/// Guarantee (Proofs/lite-skip-rule.md, "Calibration"; tested by
/// `LiteCalibrationTests.calibratedScheduleMeetsTheTargetOnTheFittedTrajectory`): on the fitted
/// trajectory, with the same tiles, scale, precision and ranges, every step of `lite --thr-schedule`
/// has error ≤ target on the sampled rows (on every row when `sampleRows` is nil), because the
/// verification run *is* that run (the kernel is deterministic whatever the thread count).
/// Not guaranteed: anything on other rows, other steps or another trajectory. A tile skipped from step t on
/// is never scored again, so a key that moves towards a query later carries unbounded weight
/// (`LiteCalibrationTests.calibrationDoesNotCarryToADriftingTrajectory` builds one).
/// The greedy search maximises the skipped fraction step by step; it is not a global optimum.
///
/// - Throws: `AttnError.usage` on bad settings or inputs; `AttnError.infeasible` when even −∞ at every
///   step misses the target (a target below the kernel's own rounding error).
public enum LiteCalibration {
    public static func calibrate<T: KernelScalar>(
        steps: [AttentionStep<T>], scale: Scale, config: LiteConfig,
        settings: LiteCalibrationSettings, threads: Int? = nil,
        progress: (String) -> Void = { _ in }
    ) throws -> LiteCalibrationResult {
        guard !steps.isEmpty else { throw AttnError.usage("the trajectory has no steps") }
        try settings.validate()
        let grid = Array(Set(settings.grid + [-.infinity])).sorted()
        let nq = steps[0].q.rows
        let rows = sampleRows(count: settings.sampleRows, of: nq, seed: settings.seed)
        let exact = try steps.map { try exactRows(rows, of: $0, scale: scale, threads: threads) }
        let T = steps.count

        func measure(_ t: Int, thr: Double, state: inout LiteSkipState, levels: inout [Double]?) throws
            -> LiteMeasuredStep
        {
            var c = config
            c.threshold = thr
            let s = steps[t]
            let (o, stats) = try LiteAttention.step(
                q: s.q, k: s.k, v: s.v, scale: scale, config: c, state: &state,
                threads: threads, levels: &levels)
            let (mx, rel) = errors(o, exact[t], rows: rows)
            return LiteMeasuredStep(
                step: t, threshold: thr, computedTiles: stats.work.computedTiles,
                totalTiles: stats.work.totalTiles, newlyMarked: stats.newlyMarked,
                maxAbsError: mx, relativeL2Error: rel)
        }
        var none: [Double]? = nil
        func within(_ m: LiteMeasuredStep) -> Bool { m.error(settings.metric) <= settings.target }

        // 1–2. Greedy forward pass.
        var thresholds: [Double] = []
        var state = LiteSkipState()
        for t in 0..<T {
            var levels: [Double]? = []
            var probe = state
            _ = try measure(t, thr: -.infinity, state: &probe, levels: &levels)
            let lv = levels!
            var chosen = -Double.infinity, chosenList = lv.map { $0 > -.infinity }
            if t + 1 < T {
                var tried: [[Bool]: Bool] = [:]
                for c in grid.reversed() where c > -.infinity {
                    let list = lv.map { $0 > c }
                    let ok: Bool
                    if let known = tried[list] {
                        ok = known
                    } else {
                        var ahead = probe.withNextList(list)
                        var fine = true
                        for j in 1...settings.lookahead where t + j < T {
                            if !within(try measure(t + j, thr: -.infinity, state: &ahead, levels: &none)) {
                                fine = false; break
                            }
                        }
                        tried[list] = fine
                        ok = fine
                    }
                    if ok { chosen = c; chosenList = list; break }
                }
            }
            // The last step's threshold decides nothing that is run: repeat the previous one.
            if t + 1 == T, let previous = thresholds.last { chosen = previous; chosenList = lv.map { $0 > previous } }
            thresholds.append(chosen)
            state = probe.withNextList(chosenList)
            progress("calibrate: step \(t) greedy threshold \(CSV.number(chosen))")
        }
        if settings.monotone {
            for t in stride(from: T - 2, through: 0, by: -1) { thresholds[t] = min(thresholds[t], thresholds[t + 1]) }
        }

        // 3. Verify and repair, resuming from the state before the step whose threshold changed.
        var repairs = 0
        var measured: [LiteMeasuredStep] = []
        var before: [LiteSkipState] = []  // before[t]: the skip state entering step t
        var from = 0, st = LiteSkipState()
        verify: while true {
            for t in from..<T {
                before.append(st)
                let m = try measure(t, thr: thresholds[t], state: &st, levels: &none)
                measured.append(m)
                guard !within(m) else { continue }
                guard let s = (0..<t).last(where: { measured[$0].newlyMarked > 0 && thresholds[$0] > -.infinity })
                else {
                    throw AttnError.infeasible(
                        "step \(t): error \(m.error(settings.metric)) exceeds the target \(settings.target) "
                            + "with no tile skipped (below the kernel's own rounding error)")
                }
                let old = thresholds
                let lower = grid.last { $0 < thresholds[s] } ?? -.infinity
                thresholds[s] = lower
                if settings.monotone { for r in 0..<s { thresholds[r] = min(thresholds[r], lower) } }
                from = thresholds.indices.first { thresholds[$0] != old[$0] }!
                st = before[from]
                measured.removeSubrange(from...)
                before.removeSubrange(from...)
                repairs += 1
                progress("calibrate: step \(t) over the target; step \(s) threshold lowered to \(CSV.number(lower))")
                continue verify
            }
            break
        }

        // The Pareto table: every grid threshold held constant, then the calibrated schedule.
        var pareto: [LiteParetoPoint] = []
        for c in grid {
            var st = LiteSkipState()
            let run = try (0..<T).map { try measure($0, thr: c, state: &st, levels: &none) }
            pareto.append(LiteParetoPoint(threshold: c, steps: run, settings: settings))
            progress(
                "calibrate: constant threshold \(CSV.number(c)): skipped \(pareto.last!.skippedFraction), max error \(pareto.last!.maxError(settings.metric))"
            )
        }
        for i in pareto.indices {
            let p = pareto[i]
            pareto[i].paretoOptimal = !pareto.contains { q in
                q != p && q.skippedFraction >= p.skippedFraction
                    && q.maxError(settings.metric) <= p.maxError(settings.metric)
                    && (q.skippedFraction > p.skippedFraction
                        || q.maxError(settings.metric) < p.maxError(settings.metric))
            }
        }
        pareto.append(LiteParetoPoint(threshold: nil, steps: measured, settings: settings))
        return LiteCalibrationResult(
            schedule: LiteSchedule(thresholds: thresholds), steps: measured, pareto: pareto,
            repairs: repairs, sampledRows: rows)
    }

    /// Reads every step of a source into memory (calibration visits steps many times).
    public static func collect<S: TrajectorySource>(_ source: inout S) throws -> [AttentionStep<S.Scalar>] {
        var out: [AttentionStep<S.Scalar>] = []
        while let s = try source.next() { out.append(s) }
        return out
    }

    /// `count` distinct rows of `0..<n` in ascending order, drawn with a seeded generator (all rows when nil or ≥ n).
    static func sampleRows(count: Int?, of n: Int, seed: UInt64) -> [Int] {
        guard let count, count < n else { return Array(0..<n) }
        var rng = Xoshiro256StarStar(seed: SplitMix64.mix(seed, 0x11fe))
        var all = Array(0..<n)
        for i in 0..<count { all.swapAt(i, i + rng.below(n - i)) }
        return all[..<count].sorted()
    }

    /// Exact attention (the fast kernel in Float64) for the sampled query rows of every head, with that
    /// kernel's a-priori bound per row (`ForwardErrorBound.fastAttention`): the yardstick is not exact, so
    /// a measured error is |o − exact| plus it (Proofs/lite-skip-rule.md, "Calibration").
    static func exactRows<T: KernelScalar>(_ rows: [Int], of s: AttentionStep<T>, scale: Scale, threads: Int?) throws
        -> AttentionResult<Double>
    {
        var q = Tensor<Double>(heads: s.q.heads, rows: rows.count, cols: s.q.cols)
        for h in 0..<s.q.heads {
            for (i, r) in rows.enumerated() { for c in 0..<s.q.cols { q[h, i, c] = Double(s.q[h, r, c]) } }
        }
        let (k, v) = (s.k.converted(to: Double.self), s.v.converted(to: Double.self))
        let out = try FastAttention.compute(q: q, k: k, v: v, scale: scale, threads: threads)
        return AttentionResult(output: out, rowBounds: ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: scale))
    }

    /// (max-abs, relative L2) of `o` against `exact` on the sampled rows, each difference widened by the
    /// yardstick's row bound b: |o − truth| ≤ |o − exact| + b, |truth| ≥ |exact| − b. NaN propagates (a NaN
    /// output, or a yardstick that overflowed, never meets a target).
    static func errors<T: KernelScalar>(_ o: Tensor<T>, _ exact: AttentionResult<Double>, rows: [Int]) -> (
        Double, Double
    ) {
        var mx = 0.0, num = 0.0, den = 0.0
        for h in 0..<o.heads {
            for (i, r) in rows.enumerated() {
                let b = exact.rowBounds[head: h, row: i]  // mutation-check: lite-yardstick
                for c in 0..<o.cols {
                    let e = exact.output[h, i, c], diff = abs(Double(o[h, r, c]) - e) + b
                    mx = diff.isNaN || mx.isNaN ? .nan : max(mx, diff)
                    num += diff * diff
                    den += max(0, abs(e) - b) * max(0, abs(e) - b)
                }
            }
        }
        if mx.isNaN { return (.nan, .nan) }
        return (mx, den > 0 ? (num / den).squareRoot() : (num > 0 ? .infinity : 0))
    }

    static func skipped(_ steps: ArraySlice<LiteMeasuredStep>) -> Double {
        let total = steps.reduce(0) { $0 + $1.totalTiles }, computed = steps.reduce(0) { $0 + $1.computedTiles }
        return total == 0 ? 0 : 1 - Double(computed) / Double(total)
    }
}

extension LiteCalibrationResult {
    /// The Pareto table as CSV rows (header first): one row per constant grid threshold, then
    /// `kind = calibrated` for the schedule (its `thr` is `nan`).
    public var paretoCSV: [[String]] {
        [
            [
                "kind", "thr", "skipped_fraction", "second_half_skipped_fraction", "max_abs_error",
                "max_relative_l2_error",
                "meets_target", "pareto_optimal",
            ]
        ]
            + pareto.map { p in
                [
                    p.threshold == nil ? "calibrated" : "constant", CSV.number(p.threshold ?? .nan),
                    CSV.number(p.skippedFraction),
                    CSV.number(p.secondHalfSkippedFraction), CSV.number(p.maxAbsError),
                    CSV.number(p.maxRelativeL2Error),
                    String(p.meetsTarget), String(p.paretoOptimal),
                ]
            }
    }

    /// The verification run, one row per step (header first).
    public var stepsCSV: [[String]] {
        [
            [
                "step", "thr", "computed_tiles", "total_tiles", "skipped_fraction", "newly_marked", "max_abs_error",
                "relative_l2_error",
            ]
        ]
            + steps.map { m in
                [
                    String(m.step), CSV.number(m.threshold), String(m.computedTiles), String(m.totalTiles),
                    CSV.number(m.skippedFraction),
                    String(m.newlyMarked), CSV.number(m.maxAbsError), CSV.number(m.relativeL2Error),
                ]
            }
    }
}
