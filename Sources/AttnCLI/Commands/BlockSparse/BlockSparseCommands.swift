import ArgumentParser
import AttnKit
import Foundation

extension LiteErrorMetric: ExpressibleByArgument {}
extension PruneMode: ExpressibleByArgument {}

struct TrajectoryOptions: ParsableArguments {
    @Option(help: "Replay folder of q_<t>, k_<t>, v_<t>.npy, [n, d] or [heads, n, d], t = 0…T−1.") var replay: String?
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
    @Option(help: "Generated trajectory: noise correlation of consecutive steps, in [0, 1].") var correlation = 0.98
    @Option(help: "Rows per q-tile.") var qTile = 128
    @Option(help: "Keys per k-tile.") var kTile = 128
    @Option(help: "Key token range START:END always computed (repeatable).") var mustDo: [HalfOpenRange] = []
    @Option(help: "Key token range START:END never computed (repeatable).") var mustSkip: [HalfOpenRange] = []
    @Option(help: "Softmax scale: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.") var scale = Scale.standard
    @Option(help: "Working precision: float32 or float64.") var precision = Precision.float32
    @OptionGroup var threads: ThreadsOption
    var spec: TrajectorySpec {
        var t = TrajectorySpec()
        (t.replay, t.frames, t.height, t.width, t.heads) = (replay, frames, height, width, heads)
        (t.d, t.steps, t.seed, t.bandwidth, t.signal) = (d, steps, seed, bandwidth, signal)
        (t.noise, t.correlation, t.qTile, t.kTile, t.scale) = (noise, correlation, qTile, kTile, scale)
        (t.mustDo, t.mustSkip, t.threads) = (mustDo.map(\.range), mustSkip.map(\.range), threads.threads)
        return t
    }
}

struct LiteCommand: ParsableCommand {
    static let configuration = command(
        "lite", "LiteAttention temporal tile skipping: run a trajectory, or calibrate.",
        subcommands: [LiteRunCommand.self, LiteCalibrateCommand.self], defaultSubcommand: LiteRunCommand.self)
}

struct LiteRunCommand: ParsableCommand {
    static let configuration = command("run", "Tile skipping over a trajectory: per step skips, |error| vs exact.")
    @OptionGroup var trajectory: TrajectoryOptions
    @Option(parsing: .unconditional, help: "Skip threshold in log₂ units (-inf: exact attention).") var thr = -6.0
    @Option(help: "Threshold schedule CSV step,thr (from 'lite calibrate'), replacing --thr.") var thrSchedule: String?
    @Option(help: "Reset the skip lists every N steps (default: never).") var resetEvery: Int?
    @OptionGroup var output: OutputOption
    @Option(help: "Checkpoint, rewritten after every step and resumed from if it exists.") var checkpoint: String?
    func validate() throws { if let c = checkpoint { try validateOutputPath(c, flag: "--checkpoint") } }
    func run() throws {
        let out = try output.required()
        var r = LiteRunRequest()
        (r.trajectory, r.threshold, r.schedule) = (trajectory.spec, thr, thrSchedule)
        (r.resetEvery, r.checkpoint) = (resetEvery, checkpoint)
        var report = try r.run(double: trajectory.precision == .float64, note: printNote)
        report.text[0] += "; wrote \(out)"
        try emit(report, out: out, json: false)
        if let checkpoint { try? FileManager.default.removeItem(atPath: checkpoint) }
    }
}

struct LiteCalibrateCommand: ParsableCommand {
    static let configuration = command("calibrate", "A threshold per step holding each step's error to a target.")
    @OptionGroup var trajectory: TrajectoryOptions
    @Option(help: "Per-step error allowed against exact attention, on the sampled rows.") var target = 1e-2
    @Option(help: "Error measure: max-abs or relative-l2.") var metric = LiteErrorMetric.maxAbs
    @Option(help: "Candidate thresholds, comma-separated (log₂ units; -inf is always added).")
    var grid = CommaList<Double>(argument: "-20,-19,-18,-17,-16,-15,-14,-13,-12,-11,-10,-9,-8,-7,-6,-5,-4,-3,-2,-1,0")!
    @Option(help: "Query rows per head measured at each step (default: all rows).") var sampleRows: Int?
    @Option(help: "Seed of the row sample.") var sampleSeed: UInt64 = 0
    @Option(help: "Later steps checked after each decision.") var lookahead = 2
    @Flag(inversion: .prefixedNo, help: "Keep the schedule non-decreasing (stricter early).") var monotone = true
    @OptionGroup var output: OutputOption
    @Option(help: "Pareto CSV to write (an .svg and a .json are written beside it).") var paretoOut: String
    func validate() throws { try validateOutputPath(paretoOut, flag: "--pareto-out") }
    func run() throws {
        let out = try output.required()
        var r = LiteCalibrationRequest()
        (r.trajectory, r.gridText) = (trajectory.spec, grid.description)
        r.settings = LiteCalibrationSettings(
            target: target, metric: metric, grid: grid.items, sampleRows: sampleRows, seed: sampleSeed,
            lookahead: lookahead, monotone: monotone)
        var o = try r.run(double: trajectory.precision == .float64, note: printNote)
        try o.pareto.writeTable(to: paretoOut, argv: CommandLine.arguments)
        try AtomicFile.write(
            o.svg, to: URL(fileURLWithPath: paretoOut).deletingPathExtension().appendingPathExtension("svg"))
        o.schedule.text[0] += "; wrote \(out), \(paretoOut)"
        try emit(o.schedule, out: out, json: false)
    }
}

struct DbspCommand: ParsableCommand {
    static let configuration = command("dbsp", "db-SP sequence-parallel planning.", subcommands: [DbspPlanCommand.self])
}

struct DbspPlanCommand: ParsableCommand {
    static let configuration = command("plan", "Balance a block mask over U·R devices (Ulysses × ring), choosing U, R.")
    @Option(help: "Block mask .npy [heads, q_blocks, k_blocks] of 0/1 (default: generated).") var mask: String?
    @Option(help: "Generated mask: heads.") var heads = 32
    @Option(help: "Generated mask: blocks per sequence.") var blocks = 64
    @Option(help: "Generated mask: density of the sparsest head.") var minDensity = 0.05
    @Option(help: "Generated mask: density of the densest head.") var maxDensity = 0.6
    @Flag(help: "Generated mask: deal the densities to heads in random order.") var shuffled = false
    @Option(help: "Seed of the generated mask and of the Q, K, V of --ranks-out.") var seed: UInt64 = 1
    @Option(help: "Total devices N; every U·R = N that fits is considered.") var devices = 8
    @Option(help: "Fix the Ulysses degree U (with --ring).") var ulysses: Int?
    @Option(help: "Fix the ring degree R (with --ulysses).") var ring: Int?
    @Option(help: "Locality rewards of the block-level greedy.") var rewards = CommaList<Double>(argument: "0,2,5,10")!
    @Option(help: "Tokens per block.") var blockSize = 64
    @Option(help: "Head dimension (cost model and --ranks-out).") var headDim = 64
    @Option(help: "Cost model: dense time of the whole problem on one device, seconds.") var denseSeconds = 1.0
    @Option(help: "Cost model: kernel launch time, seconds.") var launchSeconds = 1e-5
    @Option(help: "Cost model: link bandwidth, bytes per second.") var bandwidth = 2.5e10
    @Option(help: "Cost model: message latency, seconds.") var latency = 1e-5
    @Option(help: "Cost model: bytes per element.") var bytesPerElement = 2
    @OptionGroup var output: OutputOption
    @Option(help: "Run the plan on simulated devices (checked bitwise); per-device CSV here.") var ranksOut: String?
    @OptionGroup var threads: ThreadsOption
    func validate() throws { if let r = ranksOut { try validateOutputPath(r, flag: "--ranks-out") } }
    func run() throws {
        let out = try output.required()
        var r = DbspPlanRequest()
        (r.mask, r.heads, r.blocks, r.minDensity, r.maxDensity) = (mask, heads, blocks, minDensity, maxDensity)
        (r.shuffled, r.seed, r.devices, r.ulysses, r.ring) = (shuffled, seed, devices, ulysses, ring)
        (r.rewards, r.rewardsText, r.blockSize, r.headDim) = (rewards.items, rewards.description, blockSize, headDim)
        (r.denseSeconds, r.launchSeconds, r.bandwidth, r.latency) = (denseSeconds, launchSeconds, bandwidth, latency)
        (r.bytesPerElement, r.execute, r.threads) = (bytesPerElement, ranksOut != nil, threads.threads)
        var (plan, perDevice) = try r.run(note: printNote)
        if var perDevice, let ranksOut {
            perDevice.command += " --ranks-out"; try perDevice.writeTable(to: ranksOut, argv: CommandLine.arguments)
        }
        plan.text[0] += "; wrote \(out)"
        try emit(plan, out: out, json: false)
    }
}

struct PruneCommand: ParsableCommand {
    static let configuration = command("prune", "VisiPruner-style pruning: tokens kept, |error| vs reference, FLOPs.")
    @OptionGroup var inputs: AttentionInputs
    @Option(help: "Vision token range START:END, half open (repeatable).") var vision: [HalfOpenRange] = []
    @Option(help: "Operator: shallow, middle or deep.") var mode: PruneMode
    @Option(help: "shallow: token receiving the text queries' vision mass (default: dropped).") var sink: Int?
    @Option(help: "middle: prune when some vision token has cos(o − c_j, o) below this.") var layerThreshold = 0.995
    @Option(help: "middle: keep vision tokens with ‖c_j‖₂ above this.") var tokensThreshold = 0.2
    @Option(help: "Working precision: float32 or float64.") var precision = Precision.float32
    @Option(name: [.customLong("out"), .short], help: "Output CSV (with a .json sidecar).") var out: String
    @Option(help: "Per-token CSV: token, is_vision, cosine, norm, kept.") var tokensOut: String?
    @Option(help: "Write the operator's output as .npy here.") var npyOut: String?
    @Option(name: .customLong("output"), help: .hidden) var legacyNpyOut: String?
    func validate() throws {
        for (flag, path) in [("--out", out), ("--tokens-out", tokensOut), ("--npy-out", npyOut ?? legacyNpyOut)] {
            if let path { try validateOutputPath(path, flag: flag) }
        }
    }
    func run() throws {
        var r = PruneRequest(files: try inputs.files.set(), mode: mode)
        (r.scale, r.scoreModel, r.vision, r.sink) = try (inputs.scale, inputs.scoreModel, vision.map(\.range), sink)
        (r.layerThreshold, r.tokensThreshold) = (layerThreshold, tokensThreshold)
        try precision == .float32 ? run(r, as: Float.self) : run(r, as: Double.self)
    }
    func run<T: KernelScalar>(_ request: PruneRequest, as _: T.Type) throws {
        var (report, evaluation) = try request.run(as: T.self)
        if let path = npyOut ?? legacyNpyOut { try Npy.write(evaluation.output, to: path) }
        if let tokensOut { try AtomicFile.write(evaluation.tokensCSV, to: URL(fileURLWithPath: tokensOut)) }
        report.text[0] += "; wrote \(out)"
        try emit(report, out: out, json: false)
    }
}

struct BenchSparseCommand: ParsableCommand {
    static let configuration = command("sparse", "Block-sparse time vs skipped fraction; db-SP imbalance before/after.")
    @OptionGroup var options: BenchOptions
    @Option(help: "Sequence length n (n_q = n_k = n).") var n = 16384
    @Option(help: "Head dimension d.") var d = 64
    @Option(help: "Rows per q-tile of the block-sparse kernel.") var qTile = 256
    @Option(help: "Keys per k-tile of the block-sparse kernel.") var kTile = 512
    @OptionGroup var threads: ThreadsOption
    @Option(help: "Seed of the inputs and masks.") var seed: UInt64 = 42
    func run() throws {
        var s = SparseBenchmark.Setup()
        (s.n, s.d, s.queryTile, s.keyTile) = (n, d, qTile, kTile)
        (s.threads, s.runs, s.seed) = (threads.count, options.runs, seed)
        try options.emit { try SparseBenchmark.run(s, note: options.json ? { _ in } : printNote).runReport }
    }
}
