import ArgumentParser
import AttnBlockSparse
import AttnCore
import AttnKernels

/// The trajectory and kernel options shared by `lite` and `lite calibrate`.
struct TrajectoryOptions: ParsableArguments {
    @Option(help: "Replay folder with q_<t>.npy, k_<t>.npy, v_<t>.npy ([n, d] or [heads, n, d]) for t = 0…T−1.")
    var replay: String?

    @Option(help: "Generated trajectory: frames.") var frames = 24
    @Option(help: "Generated trajectory: height in tokens.") var height = 8
    @Option(help: "Generated trajectory: width in tokens.") var width = 8
    @Option(help: "Generated trajectory: heads.") var heads = 2
    @Option(help: "Generated trajectory: head dimension d.") var d = 64
    @Option(help: "Generated trajectory: denoising steps T.") var steps = 30
    @Option(help: "Generated trajectory: seed.") var seed: UInt64 = 1
    @Option(help: "Generated trajectory: attention radius in tokens.") var bandwidth = 2.0
    @Option(help: "Generated trajectory: positional signal strength β.") var signal = 14.0
    @Option(help: "Generated trajectory: noise amplitude at the first step.") var noise = 2.0
    @Option(help: "Generated trajectory: noise correlation between consecutive steps, in [0, 1].") var correlation = 0.98

    @Option(help: "Rows per q-tile.") var qTile = 128
    @Option(help: "Keys per k-tile.") var kTile = 128
    @Option(help: "Key token range START:END always computed (repeatable).") var mustDo: [String] = []
    @Option(help: "Key token range START:END never computed (repeatable).") var mustSkip: [String] = []

    @Option(help: "Softmax scale s: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.")
    var scale: Scale = .standard
    @Option(help: "Working precision: float32 or float64.") var precision: Precision = .float32
    @OptionGroup var threadsOption: ThreadsOption
    var threads: Int? { threadsOption.threads }

    func validate() throws {
        for r in mustDo { _ = try BlockSparseCLI.range(r, flag: "--must-do") }
        for r in mustSkip { _ = try BlockSparseCLI.range(r, flag: "--must-skip") }
        guard (1...65536).contains(qTile), (1...65536).contains(kTile) else { throw ValidationError("--q-tile and --k-tile must be in 1...65536") }
        guard replay == nil else { return }
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

    func config(threshold: Double) throws -> LiteConfig {
        LiteConfig(threshold: threshold, tiles: TileSizes(queryTile: qTile, keyTile: kTile),
                   mustDo: try mustDo.map { try BlockSparseCLI.range($0, flag: "--must-do") },
                   mustSkip: try mustSkip.map { try BlockSparseCLI.range($0, flag: "--must-skip") })
    }

    func generated<T: KernelScalar>(_: T.Type) -> DiffusionTrajectory<T> {
        DiffusionTrajectory<T>(shape: VideoShape(frames: frames, height: height, width: width), heads: heads, d: d, steps: steps,
                               seed: seed, bandwidth: bandwidth, signal: signal, noise: noise, correlation: correlation)
    }

    /// Every step in memory (calibration visits each step many times).
    func collect<T: KernelScalar>(_: T.Type) throws -> [AttentionStep<T>] {
        if let replay {
            var s = try TrajectoryReplay<T>(directory: replay)
            return try LiteCalibration.collect(&s)
        }
        var s = generated(T.self)
        return try LiteCalibration.collect(&s)
    }

    var parameters: [(String, JSONValue)] {
        var p: [(String, JSONValue)] = [
            ("q_tile", .int(qTile)), ("k_tile", .int(kTile)), ("must_do", .array(mustDo.map { .string($0) })),
            ("must_skip", .array(mustSkip.map { .string($0) })), ("scale", .string(scale.description)),
            ("precision", .string(precision.rawValue))]
        if let replay { p.append(("replay", .string(replay))) } else {
            p += [("frames", .int(frames)), ("height", .int(height)), ("width", .int(width)), ("heads", .int(heads)),
                  ("d", .int(d)), ("steps", .int(steps)), ("bandwidth", .double(bandwidth)), ("signal", .double(signal)),
                  ("noise", .double(noise)), ("correlation", .double(correlation))]
        }
        return p
    }
}
