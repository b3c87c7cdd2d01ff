import ArgumentParser
import AttnBlockSparse
import AttnCore
import AttnKernels
import Foundation

/// `attnbound lite`: LiteAttention temporal tile skipping over a trajectory.
struct LiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lite",
        abstract: "LiteAttention temporal tile skipping over a diffusion-like trajectory.",
        discussion: """
            Runs every denoising step through LiteAttention (skip lists carried across steps) and writes \
            one CSV row per step: tiles computed, skipped fraction, max |error| against exact attention \
            (FastAttention in Float64) and wall time beside the dense fast kernel. The trajectory is \
            generated from --seed (frames × height × width tokens, local attention) or replayed from \
            --replay DIR holding q_<t>.npy, k_<t>.npy, v_<t>.npy for t = 0…T−1.
            """)

    @Option(help: "Replay folder with q_<t>.npy, k_<t>.npy, v_<t>.npy ([n, d] or [heads, n, d]) for t = 0…T−1.")
    var replay: String?

    @Option(help: "Generated trajectory: frames.") var frames = 4
    @Option(help: "Generated trajectory: height in tokens.") var height = 16
    @Option(help: "Generated trajectory: width in tokens.") var width = 16
    @Option(help: "Generated trajectory: heads.") var heads = 2
    @Option(help: "Generated trajectory: head dimension d.") var d = 64
    @Option(help: "Generated trajectory: denoising steps T.") var steps = 10
    @Option(help: "Generated trajectory: seed.") var seed: UInt64 = 1
    @Option(help: "Generated trajectory: attention radius in tokens.") var bandwidth = 2.0
    @Option(help: "Generated trajectory: positional signal strength β.") var signal = 10.0
    @Option(help: "Generated trajectory: noise amplitude at the first step.") var noise = 2.0
    @Option(help: "Generated trajectory: noise correlation between consecutive steps, in [0, 1].") var correlation = 0.95

    @Option(parsing: .unconditional, help: "Skip threshold in log₂ units (negative; -inf = exact attention).")
    var thr = "-6"

    @Option(help: "Rows per q-tile.") var qTile = 128
    @Option(help: "Keys per k-tile.") var kTile = 128

    @Option(help: "Key token range START:END always computed (repeatable).") var mustDo: [String] = []
    @Option(help: "Key token range START:END never computed (repeatable).") var mustSkip: [String] = []

    @Option(help: "Reset the skip lists every N steps (default: never).") var resetEvery: Int?

    @Option(help: "Softmax scale s: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.")
    var scale: Scale = .standard

    @Option(help: "Working precision: float32 or float64.") var precision: Precision = .float32

    @OptionGroup var threadsOption: ThreadsOption
    var threads: Int? { threadsOption.threads }

    @Option(name: [.customLong("out"), .short], help: "Output CSV (one row per step; a .json sidecar is written beside it).") var out: String

    @Option(help: "Checkpoint file, rewritten after every step; if it exists, the run resumes from it. Removed on success.")
    var checkpoint: String?

    func validate() throws {
        try validateOutputPath(out, flag: "--out")
        if let c = checkpoint { try validateOutputPath(c, flag: "--checkpoint") }
        _ = try BlockSparseCLI.threshold(thr, flag: "--thr")
        for r in mustDo { _ = try BlockSparseCLI.range(r, flag: "--must-do") }
        for r in mustSkip { _ = try BlockSparseCLI.range(r, flag: "--must-skip") }
        guard (1...65536).contains(qTile), (1...65536).contains(kTile) else { throw ValidationError("--q-tile and --k-tile must be in 1...65536") }
        if let r = resetEvery, r < 1 { throw ValidationError("--reset-every must be ≥ 1") }
        if replay == nil {
            for (name, x) in [("--frames", frames), ("--height", height), ("--width", width)] where !(1...4096).contains(x) {
                throw ValidationError("\(name) must be in 1...4096")
            }
            guard frames * height * width <= 65536 else { throw ValidationError("frames × height × width must be ≤ 65536 tokens") }
            guard (1...256).contains(heads), (1...1024).contains(d), (1...10000).contains(steps) else {
                throw ValidationError("--heads in 1...256, --d in 1...1024, --steps in 1...10000")
            }
            guard bandwidth > 0, bandwidth.isFinite, signal.isFinite, noise.isFinite, noise >= 0, (0...1).contains(correlation) else {
                throw ValidationError("--bandwidth > 0, finite --signal, --noise ≥ 0, --correlation in [0, 1]")
            }
        }
    }

    func run() throws {
        switch precision {
        case .float32: try run(as: Float.self)
        case .float64: try run(as: Double.self)
        }
    }

    func run<T: KernelScalar>(as: T.Type) throws {
        let config = LiteConfig(threshold: try BlockSparseCLI.threshold(thr, flag: "--thr"),
                                tiles: TileSizes(queryTile: qTile, keyTile: kTile),
                                mustDo: try mustDo.map { try BlockSparseCLI.range($0, flag: "--must-do") },
                                mustSkip: try mustSkip.map { try BlockSparseCLI.range($0, flag: "--must-skip") })
        var params: [(String, JSONValue)] = [
            ("thr", .double(config.threshold)), ("q_tile", .int(qTile)), ("k_tile", .int(kTile)),
            ("must_do", .array(mustDo.map { .string($0) })), ("must_skip", .array(mustSkip.map { .string($0) })),
            ("reset_every", resetEvery.map { .int($0) } ?? .null), ("scale", .string(scale.description)),
            ("precision", .string(precision.rawValue)),
        ]
        if let replay { params.append(("replay", .string(replay))) } else {
            params += [("frames", .int(frames)), ("height", .int(height)), ("width", .int(width)), ("heads", .int(heads)),
                       ("d", .int(d)), ("steps", .int(steps)), ("bandwidth", .double(bandwidth)), ("signal", .double(signal)),
                       ("noise", .double(noise)), ("correlation", .double(correlation))]
        }
        let fingerprint = JSONValue.object(params + [("seed", .string(String(seed)))]).serialized()
        let resume = try loadCheckpoint(fingerprint: fingerprint)
        if let r = resume { printNote("lite: resuming from \(checkpoint!) after step \(r.rows.count - 1)") }
        let save: (LiteCheckpoint) throws -> Void = { c in
            guard let path = checkpoint else { return }
            let enc = JSONEncoder()
            enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            try AtomicFile.write(try enc.encode(c), to: URL(fileURLWithPath: path))
        }
        let progress: (LiteStepReport) -> Void = { r in
            printNote("step \(r.step): skipped \(fmt(100 * r.skippedFraction))% of tiles, max error \(r.maxAbsError)")
        }
        let rows: [LiteStepReport]
        if let replay {
            var source = try TrajectoryReplay<T>(directory: replay)
            rows = try LiteTrajectoryRun.run(&source, scale: scale, config: config, resetEvery: resetEvery,
                                             threads: threads, resume: resume, fingerprint: fingerprint,
                                             checkpoint: save, progress: progress)
        } else {
            var source = DiffusionTrajectory<T>(shape: VideoShape(frames: frames, height: height, width: width), heads: heads,
                                                d: d, steps: steps, seed: seed, bandwidth: bandwidth, signal: signal,
                                                noise: noise, correlation: correlation)
            rows = try LiteTrajectoryRun.run(&source, scale: scale, config: config, resetEvery: resetEvery,
                                             threads: threads, resume: resume, fingerprint: fingerprint,
                                             checkpoint: save, progress: progress)
        }
        let n = BlockSparseCLI.num
        let header = ["step", "computed_tiles", "total_tiles", "skipped_fraction", "newly_marked", "max_abs_error",
                      "seconds", "dense_seconds", "time_ratio"]
        let csvRows = rows.map { r in
            [String(r.step), String(r.computedTiles), String(r.totalTiles), n(r.skippedFraction), String(r.newlyMarked),
             n(r.maxAbsError), n(r.seconds), n(r.denseSeconds), n(r.seconds / r.denseSeconds)]
        }
        try BlockSparseCLI.write(csvHeader: header, rows: csvRows, to: out, command: "lite", parameters: params,
                                 seed: replay == nil ? seed : nil)
        if let checkpoint { try? FileManager.default.removeItem(atPath: checkpoint) }
        let mean = rows.map(\.skippedFraction).reduce(0, +) / Double(max(1, rows.count))
        print("lite: \(replay.map { "replay \($0)" } ?? "seed \(seed)"), \(rows.count) steps, mean skipped fraction \(fmt(mean, 3)), max error "
              + "\(rows.map(\.maxAbsError).max() ?? 0); wrote \(out)")
    }

    /// The checkpoint to resume from, if `--checkpoint` names an existing file of this run.
    func loadCheckpoint(fingerprint: String) throws -> LiteCheckpoint? {
        guard let path = checkpoint, FileManager.default.fileExists(atPath: path) else { return nil }
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let data = FileManager.default.contents(atPath: path), let c = try? dec.decode(LiteCheckpoint.self, from: data) else {
            throw AttnError.usage("--checkpoint \(path): not a lite checkpoint")
        }
        guard c.fingerprint == fingerprint else {
            throw AttnError.usage("--checkpoint \(path): written by a run with other parameters")
        }
        return c
    }
}
