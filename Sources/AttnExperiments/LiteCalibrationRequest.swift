import AttnBlockSparse
import AttnCore
import AttnKernels
import Foundation

/// `lite calibrate` as one request: a per-step threshold schedule keeping every step's error
/// within `settings.target` on `trajectory` (`LiteCalibration.calibrate`), verified by a
/// run, and the Pareto table of the constant thresholds beside it. Guaranteed on the fitted
/// trajectory only (Proofs/lite-skip-rule.md).
public struct LiteCalibrationRequest: Sendable {
    public var trajectory = TrajectorySpec()
    public var settings = LiteCalibrationSettings(
        target: 1e-2, grid: Array(stride(from: -20.0, through: 0, by: 1)))
    /// The grid as the user wrote it (recorded in the sidecars).
    public var gridText = "-20,-19,-18,-17,-16,-15,-14,-13,-12,-11,-10,-9,-8,-7,-6,-5,-4,-3,-2,-1,0"

    public init() {}

    /// The three results: the schedule (CSV step,thr, read by `LiteRunRequest.schedule`) with the
    /// verification run in its sidecar, the Pareto table, and its figure (SVG).
    public struct Outcome: Sendable {
        public var schedule: RunReport
        public var pareto: RunReport
        public var svg: String
    }

    /// - Throws: `AttnError.usage` naming the parameter out of range.
    public func validate() throws {
        try trajectory.validate()
        try settings.validate()
        try Parameter.lookahead.require(settings.lookahead, in: 1...100)
    }

    /// Calibrates at working precision `T`; `note` receives the calibration's progress lines.
    public func run(double: Bool, note: (String) -> Void = { _ in }) throws -> Outcome {
        try double ? run(as: Double.self, note: note) : run(as: Float.self, note: note)
    }

    /// As `run(double:note:)` at working precision `T`.
    public func run<T: KernelScalar>(as _: T.Type, note: (String) -> Void = { _ in }) throws -> Outcome {
        try validate()
        let (s, t) = (settings, trajectory)
        let r = try LiteCalibration.calibrate(
            steps: try t.collect(T.self), scale: t.scale, config: t.config(threshold: 0), settings: s,
            threads: t.threads, progress: note)
        let params: [(String, JSONValue)] =
            t.parameters(T.self) + [
                ("target", .double(s.target)), ("metric", .string(s.metric.rawValue)), ("grid", .string(gridText)),
                ("sample_rows", s.sampleRows.map { .int($0) } ?? .null), ("sample_seed", .string(String(s.seed))),
                ("lookahead", .int(s.lookahead)), ("monotone", .bool(s.monotone)), ("repairs", .int(r.repairs)),
                ("verification", .array(r.stepsCSV.dropFirst().map { .array($0.map { .string($0) }) })),
            ]
        let schedule = r.schedule.csv.split(separator: "\n").map { CSV.parseRow($0) }
        let table = { (rows: [[String]]) in RunReport.Table(header: rows[0], rows: Array(rows.dropFirst())) }
        let summary = "lite calibrate: \(r.summary(metric: s.metric, target: s.target))"
        return Outcome(
            schedule: RunReport(
                command: "lite calibrate", parameters: params, seed: t.inputSeed, table: table(schedule),
                text: [summary]),
            pareto: RunReport(
                command: "lite calibrate", parameters: params, seed: t.inputSeed, table: table(r.paretoCSV)),
            svg: try r.paretoSVG(metric: s.metric, target: s.target))
    }
}
