import ArgumentParser
import AttnBlockSparse
import AttnCore
import AttnExperiments
import AttnKernels
import Foundation

extension LiteErrorMetric: ExpressibleByArgument {}

/// `attnbound lite calibrate`: a per-step threshold schedule meeting a target error (LiteCalibration).
struct LiteCalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Choose a LiteAttention threshold per step that keeps every step's error within a target.",
        discussion: """
            Writes the schedule (--out, CSV step,thr, read by 'lite --thr-schedule') with a .json sidecar holding \
            the verification run, and the Pareto table of constant thresholds (--pareto-out CSV, its .json sidecar \
            and an .svg beside it). Guaranteed on the fitted trajectory only: see Proofs/lite-skip-rule.md.
            """)

    @OptionGroup var trajectory: TrajectoryOptions

    @Option(help: "Per-step error allowed against exact attention, on the sampled rows.") var target = 1e-2
    @Option(help: "Error measure: max-abs or relative-l2.") var metric: LiteErrorMetric = .maxAbs
    @Option(help: "Candidate thresholds, comma-separated (log₂ units; -inf is always added).")
    var grid = CommaList<Double>(argument: "-20,-19,-18,-17,-16,-15,-14,-13,-12,-11,-10,-9,-8,-7,-6,-5,-4,-3,-2,-1,0")!
    @Option(help: "Query rows per head measured at each step (default: all rows).") var sampleRows: Int?
    @Option(help: "Seed of the row sample.") var sampleSeed: UInt64 = 0
    @Option(help: "Later steps checked after each decision.") var lookahead = 2
    @Flag(inversion: .prefixedNo, help: "Keep the schedule non-decreasing (stricter early).") var monotone = true
    @Option(help: "Schedule CSV to write.") var out: String
    @Option(help: "Pareto CSV to write (an .svg and a .json are written beside it).") var paretoOut: String

    func validate() throws {
        try validateOutputPath(out, flag: "--out")
        try validateOutputPath(paretoOut, flag: "--pareto-out")
        guard target > 0, target.isFinite else { throw ValidationError("--target must be positive and finite") }
        guard !grid.items.contains(where: \.isNaN) else { throw ValidationError("--grid: expected numbers, -inf or inf") }
        if let r = sampleRows, r < 1 { throw ValidationError("--sample-rows must be at least 1") }
        guard (1...100).contains(lookahead) else { throw ValidationError("--lookahead must be in 1...100") }
    }

    func run() throws {
        switch trajectory.precision {
        case .float32: try run(as: Float.self)
        case .float64: try run(as: Double.self)
        }
    }

    func run<T: KernelScalar>(as: T.Type) throws {
        let settings = LiteCalibrationSettings(target: target, metric: metric, grid: grid.items, sampleRows: sampleRows,
                                               seed: sampleSeed, lookahead: lookahead, monotone: monotone)
        let r = try LiteCalibration.calibrate(steps: try trajectory.collect(T.self), scale: trajectory.scale,
                                              config: try trajectory.config(threshold: 0), settings: settings,
                                              threads: trajectory.threads) { printNote($0) }
        let params: [(String, JSONValue)] = trajectory.parameters + [
            ("target", .double(target)), ("metric", .string(metric.rawValue)), ("grid", .string(grid.description)),
            ("sample_rows", sampleRows.map { .int($0) } ?? .null), ("sample_seed", .string(String(sampleSeed))),
            ("lookahead", .int(lookahead)), ("monotone", .bool(monotone)), ("repairs", .int(r.repairs)),
            ("verification", .array(r.stepsCSV.dropFirst().map { .array($0.map { .string($0) }) }))]
        let seed = trajectory.replay == nil ? trajectory.seed : nil
        let sched = r.schedule.csv.split(separator: "\n").map { CSV.parseRow($0) }
        try BlockSparseCLI.write(csvHeader: sched[0], rows: Array(sched.dropFirst()), to: out, command: "lite calibrate",
                                 parameters: params, seed: seed)
        let table = r.paretoCSV
        try BlockSparseCLI.write(csvHeader: table[0], rows: Array(table.dropFirst()), to: paretoOut, command: "lite calibrate",
                                 parameters: params, seed: seed)
        let pts = r.pareto.filter { $0.threshold != nil }.map {
            ParetoPlot.Point(x: $0.maxError(metric), y: $0.secondHalfSkippedFraction, label: CSV.number($0.threshold!)) }
        let cal = r.pareto.last!
        let svg = try ParetoPlot.svg(
            title: "LiteAttention: skipped tiles vs error (\(r.steps.count) steps)",
            note: "blue: constant thresholds (label = thr); red: the calibrated schedule; dashed: target",
            xLabel: "largest per-step error (\(metric.rawValue))", yLabel: "skipped fraction, second half of the steps",
            curve: pts, highlight: [.init(x: cal.maxError(metric), y: cal.secondHalfSkippedFraction, label: "calibrated")],
            vline: (target, "target"))
        try AtomicFile.write(svg, to: URL(fileURLWithPath: paretoOut).deletingPathExtension().appendingPathExtension("svg"))
        print("lite calibrate: \(r.steps.count) steps, target \(metric.rawValue) ≤ \(target): skipped \(fmt(100 * cal.skippedFraction))% of tiles "
              + "(\(fmt(100 * cal.secondHalfSkippedFraction))% over the second half), largest step error \(cal.maxError(metric)), "
              + "\(r.repairs) repairs; wrote \(out), \(paretoOut)")
    }
}
