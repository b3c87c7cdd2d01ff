import AttnCore
import AttnKernels
import Foundation

/// `lite` as one request: LiteAttention over every step of a trajectory at one threshold or a
/// per-step schedule, resumable from a checkpoint file (`LiteCheckpoint`). `run` returns one
/// CSV row per step (`LiteStepReport`) in the one report shape.
public struct LiteRunRequest: Sendable {
    public var trajectory = TrajectorySpec()
    /// Skip threshold in log₂ units (−∞: exact attention).
    public var threshold = -6.0
    /// A schedule CSV (step,thr, from `LiteCalibrationRequest`) replacing `threshold` at every step.
    public var schedule: String?
    /// Reset the skip lists every this many steps (nil: never).
    public var resetEvery: Int?
    /// Rewritten after every step; when it exists, the run resumes from it.
    public var checkpoint: String?

    public init() {}

    /// - Throws: `AttnError.usage` naming the parameter out of range.
    public func validate() throws {
        try trajectory.validate()
        try Parameter.threshold.require(!threshold.isNaN, "must not be NaN")
        try Parameter.resetEvery.require((resetEvery ?? 1) >= 1, "must be ≥ 1")
    }

    /// Runs at working precision `T`; `note` receives a line per step (and one on resuming).
    /// The checkpoint is left in place: remove it once the rows are written.
    /// - Throws: `AttnError.usage` for invalid parameters, a malformed schedule, replay folder or
    ///   checkpoint (`LiteCheckpoint.load`), or a checkpoint of another run.
    public func run(double: Bool, note: (String) -> Void = { _ in }) throws -> RunReport {
        try double ? run(as: Double.self, note: note) : run(as: Float.self, note: note)
    }

    /// As `run(double:note:)` at working precision `T`.
    public func run<T: KernelScalar>(as _: T.Type, note: (String) -> Void = { _ in }) throws -> RunReport {
        try validate()
        let config = trajectory.config(threshold: threshold)
        let thresholds = try schedule.map { path in
            do { return try LiteSchedule(csv: try String(contentsOfFile: path, encoding: .utf8)) } catch {
                throw AttnError.usage(.thrSchedule, "\(path): \((error as? AttnError)?.message ?? "not readable")")
            }
        }
        let t = trajectory
        var params: [(String, JSONValue)] =
            [("thr", .double(threshold)), ("reset_every", resetEvery.map { .int($0) } ?? .null)] + t.parameters(T.self)
        if let s = thresholds { params.append(("thr_schedule", .array(s.thresholds.map { .double($0) }))) }
        // The checkpoint resumes only a run with the same parameters and seed.
        let fingerprint = JSONValue.object(params + [("seed", .string(String(t.seed)))]).serialized()
        let resume = try checkpoint.flatMap { try LiteCheckpoint.load(from: $0, fingerprint: fingerprint) }
        if let r = resume, let c = checkpoint { note("lite: resuming from \(c) after step \(r.rows.count - 1)") }
        func save(_ c: LiteCheckpoint) throws { if let path = checkpoint { try c.save(to: path) } }
        func progress(_ r: LiteStepReport) {
            note(
                "step \(r.step): skipped \(TextFormat.fixed(100 * r.skippedFraction, 1))% of tiles, "
                    + "max error \(r.maxAbsError)")
        }
        func rows<S: TrajectorySource>(_ source: inout S) throws -> [LiteStepReport] where S.Scalar == T {
            try LiteTrajectoryRun.run(
                &source, scale: t.scale, config: config, schedule: thresholds, resetEvery: resetEvery,
                threads: t.threads, resume: resume, fingerprint: fingerprint, checkpoint: save, progress: progress)
        }
        let r: [LiteStepReport]
        if let dir = t.replay {
            var source = try TrajectoryReplay<T>(directory: dir)
            r = try rows(&source)
        } else {
            var source = t.generated(T.self)
            r = try rows(&source)
        }
        let mean = r.map(\.skippedFraction).reduce(0, +) / Double(max(1, r.count))
        let text =
            "lite: \(t.replay.map { "replay \($0)" } ?? "seed \(t.seed)"), \(r.count) steps, mean skipped fraction "
            + "\(TextFormat.fixed(mean, 3)), max error \(r.map(\.maxAbsError).max() ?? 0)"
        return RunReport(
            command: "lite", parameters: params, seed: t.inputSeed,
            table: .init(header: LiteStepReport.csvHeader, rows: r.map(\.csvFields)), text: [text])
    }
}
