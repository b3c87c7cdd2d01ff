import ArgumentParser
import AttnBlockSparse
import AttnCore
import AttnKernels
import Foundation

/// `attnbound lite`: LiteAttention over a trajectory (`lite run`, the default) or its calibration.
struct LiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lite", abstract: "LiteAttention temporal tile skipping: run a trajectory, or calibrate thresholds.",
        subcommands: [LiteRunCommand.self, LiteCalibrateCommand.self], defaultSubcommand: LiteRunCommand.self)
}

/// `attnbound lite [run]`: LiteAttention temporal tile skipping over a trajectory.
struct LiteRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "LiteAttention temporal tile skipping over a diffusion-like trajectory.",
        discussion: """
            Runs every denoising step through LiteAttention (skip lists carried across steps) and writes \
            one CSV row per step: tiles computed, skipped fraction, max |error| against exact attention \
            (FastAttention in Float64) and wall time beside the dense fast kernel. The trajectory is \
            generated from --seed (frames × height × width tokens, local attention) or replayed from \
            --replay DIR holding q_<t>.npy, k_<t>.npy, v_<t>.npy for t = 0…T−1.
            """)

    @OptionGroup var trajectory: TrajectoryOptions

    @Option(parsing: .unconditional, help: "Skip threshold in log₂ units (negative; -inf = exact attention).")
    var thr = "-6"

    @Option(help: "Threshold schedule CSV (step,thr; from 'lite calibrate'), replacing --thr at every step.")
    var thrSchedule: String?

    @Option(help: "Reset the skip lists every N steps (default: never).") var resetEvery: Int?

    @Option(name: [.customLong("out"), .short], help: "Output CSV (one row per step; a .json sidecar is written beside it).") var out: String

    @Option(help: "Checkpoint file, rewritten after every step; if it exists, the run resumes from it. Removed on success.")
    var checkpoint: String?

    func validate() throws {
        try validateOutputPath(out, flag: "--out")
        if let c = checkpoint { try validateOutputPath(c, flag: "--checkpoint") }
        _ = try BlockSparseCLI.threshold(thr, flag: "--thr")
        if let r = resetEvery, r < 1 { throw ValidationError("--reset-every must be ≥ 1") }
    }

    func run() throws {
        switch trajectory.precision {
        case .float32: try run(as: Float.self)
        case .float64: try run(as: Double.self)
        }
    }

    func run<T: KernelScalar>(as: T.Type) throws {
        let config = try trajectory.config(threshold: try BlockSparseCLI.threshold(thr, flag: "--thr"))
        let schedule = try thrSchedule.map { path in
            do { return try LiteSchedule(csv: try String(contentsOfFile: path, encoding: .utf8)) } catch {
                throw AttnError.usage("--thr-schedule \(path): \((error as? AttnError)?.message ?? "not readable")")
            }
        }
        let (replay, seed, threads, scale) = (trajectory.replay, trajectory.seed, trajectory.threads, trajectory.scale)
        var params: [(String, JSONValue)] = [("thr", .double(config.threshold)), ("reset_every", resetEvery.map { .int($0) } ?? .null)]
            + trajectory.parameters
        if let s = schedule { params.append(("thr_schedule", .array(s.thresholds.map { .double($0) }))) }
        let fingerprint = JSONValue.object(params + [("seed", .string(String(seed)))]).serialized()
        let resume = try checkpoint.flatMap { try LiteCheckpoint.load(from: $0, fingerprint: fingerprint) }
        if let r = resume { printNote("lite: resuming from \(checkpoint!) after step \(r.rows.count - 1)") }
        let save: (LiteCheckpoint) throws -> Void = { c in if let path = checkpoint { try c.save(to: path) } }
        let progress: (LiteStepReport) -> Void = { r in
            printNote("step \(r.step): skipped \(fmt(100 * r.skippedFraction))% of tiles, max error \(r.maxAbsError)")
        }
        let rows: [LiteStepReport]
        if let replay {
            var source = try TrajectoryReplay<T>(directory: replay)
            rows = try LiteTrajectoryRun.run(&source, scale: scale, config: config, schedule: schedule, resetEvery: resetEvery,
                                             threads: threads, resume: resume, fingerprint: fingerprint,
                                             checkpoint: save, progress: progress)
        } else {
            var source = trajectory.generated(T.self)
            rows = try LiteTrajectoryRun.run(&source, scale: scale, config: config, schedule: schedule, resetEvery: resetEvery,
                                             threads: threads, resume: resume, fingerprint: fingerprint,
                                             checkpoint: save, progress: progress)
        }
        try BlockSparseCLI.write(csvHeader: LiteStepReport.csvHeader, rows: rows.map(\.csvFields), to: out, command: "lite", parameters: params,
                                 seed: replay == nil ? seed : nil)
        if let checkpoint { try? FileManager.default.removeItem(atPath: checkpoint) }
        let mean = rows.map(\.skippedFraction).reduce(0, +) / Double(max(1, rows.count))
        print("lite: \(replay.map { "replay \($0)" } ?? "seed \(seed)"), \(rows.count) steps, mean skipped fraction \(fmt(mean, 3)), max error "
              + "\(rows.map(\.maxAbsError).max() ?? 0); wrote \(out)")
    }
}
