import AttnCore
import AttnKernels

/// The trajectory a LiteAttention command runs on and the kernel settings it runs with,
/// shared by `LiteRunRequest` and `LiteCalibrationRequest`: a replayed folder
/// (`TrajectoryReplay`) or a seeded video-like trajectory (`DiffusionTrajectory`); the tiles,
/// the key ranges forced on or off, the scale and the threads.
public struct TrajectorySpec: Sendable {
    /// A folder of q_<t>.npy, k_<t>.npy, v_<t>.npy for t = 0…T−1; nil: the generated trajectory.
    public var replay: String?
    /// The generated trajectory: frames × height × width tokens, heads, head dimension, steps T.
    public var frames = 24, height = 8, width = 8, heads = 2, d = 64, steps = 30
    public var seed: UInt64 = 1
    /// The generated trajectory: attention radius in tokens, positional signal β, the noise at the
    /// first step, and the noise correlation between consecutive steps.
    public var bandwidth = 2.0, signal = 14.0, noise = 2.0, correlation = 0.98
    public var qTile = 128, kTile = 128
    /// Key token ranges always computed, and never computed.
    public var mustDo: [Range<Int>] = [], mustSkip: [Range<Int>] = []
    public var scale: Scale = .standard
    public var threads: Int?

    public init() {}

    /// - Throws: `AttnError.usage` naming the parameter out of range (the generated
    ///   trajectory's only when there is no replay folder).
    public func validate() throws {
        try Parameter.qTile.require(qTile, in: 1...65536)
        try Parameter.kTile.require(kTile, in: 1...65536)
        guard replay == nil else { return }
        for (p, x) in [(Parameter.frames, frames), (.height, height), (.width, width)] {
            try p.require(x, in: 1...4096)
        }
        try Parameter.frames.require(frames * height * width <= 65536, "frames × height × width must be ≤ 65536 tokens")
        try Parameter.heads.require(heads, in: 1...256)
        try Parameter.d.require(d, in: 1...1024)
        try Parameter.steps.require(steps, in: 1...10000)
        try Parameter.bandwidth.require(bandwidth > 0 && bandwidth.isFinite, "must be positive and finite")
        try Parameter.signal.require(signal.isFinite, "must be finite")
        try Parameter.noise.require(noise.isFinite && noise >= 0, "must be finite and ≥ 0")
        try Parameter.correlation.require((0...1).contains(correlation), "must be in [0, 1]")
    }

    /// The kernel's configuration at `threshold` (log₂ units).
    public func config(threshold: Double) -> LiteConfig {
        LiteConfig(
            threshold: threshold, tiles: TileSizes(queryTile: qTile, keyTile: kTile), mustDo: mustDo,
            mustSkip: mustSkip)
    }

    /// The seeded trajectory (`replay` aside).
    public func generated<T: KernelScalar>(_: T.Type) -> DiffusionTrajectory<T> {
        DiffusionTrajectory<T>(
            shape: VideoShape(frames: frames, height: height, width: width), heads: heads, d: d, steps: steps,
            seed: seed, bandwidth: bandwidth, signal: signal, noise: noise, correlation: correlation)
    }

    /// Every step in memory (calibration visits each step many times).
    public func collect<T: KernelScalar>(_: T.Type) throws -> [AttentionStep<T>] {
        if let replay {
            var s = try TrajectoryReplay<T>(directory: replay)
            return try LiteCalibration.collect(&s)
        }
        var s = generated(T.self)
        return try LiteCalibration.collect(&s)
    }

    /// The seed of the inputs, nil for a replay (its numbers are the files').
    public var inputSeed: UInt64? { replay == nil ? seed : nil }

    /// The sidecar's parameters at working precision `T`.
    public func parameters<T: AttnScalar>(_: T.Type) -> [(String, JSONValue)] {
        let ranges = { (rs: [Range<Int>]) in JSONValue.array(rs.map { .string("\($0.lowerBound):\($0.upperBound)") }) }
        var p: [(String, JSONValue)] = [
            ("q_tile", .int(qTile)), ("k_tile", .int(kTile)), ("must_do", ranges(mustDo)),
            ("must_skip", ranges(mustSkip)), ("scale", .string(scale.description)), ("precision", .string(T.dtypeName)),
        ]
        if let replay {
            p.append(("replay", .string(replay)))
        } else {
            p += [
                ("frames", .int(frames)), ("height", .int(height)), ("width", .int(width)), ("heads", .int(heads)),
                ("d", .int(d)), ("steps", .int(steps)), ("bandwidth", .double(bandwidth)), ("signal", .double(signal)),
                ("noise", .double(noise)), ("correlation", .double(correlation)),
            ]
        }
        return p
    }
}
