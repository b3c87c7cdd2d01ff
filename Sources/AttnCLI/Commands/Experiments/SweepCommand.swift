import ArgumentParser
import AttnCore
import AttnExperiments
import AttnPoly
import Foundation

extension Experiment: ExpressibleByArgument {}
extension InputDistribution: ExpressibleByArgument {}

/// `attnbound sweep`: the B = Θ(√log n) threshold experiments into
/// CSV + JSON sidecar + SVG. Validates, calls `SweepRunner`, writes.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run the B = Θ(√log n) threshold experiments into CSV + JSON sidecar + SVG.",
        discussion: """
        With no flags: all four experiments on a default grid (about a minute or less on 2 cores), \
        writing out/sweep.csv, out/sweep.json and out/sweep.svg. The CSV is byte-identical for a \
        given --seed whatever --threads is, after --resume, and after `attnbound merge` of --shard runs.

        On a cluster (Slurm job array, one shard per task):
          #SBATCH --array=1-8
          attnbound sweep --shard ${SLURM_ARRAY_TASK_ID}/8 --out results
        then, once all tasks are done:
          attnbound merge results/sweep.shard-*-of-8.csv -o results/sweep.csv
          attnbound plot results/sweep.csv -o results/sweep.svg
        """)

    @Option(help: "Experiments, comma separated: degree-vs-b, error-vs-b, erank-vs-b, hard-instance (default: all).")
    var experiment: CommaList<Experiment>?

    @Option(help: "Sizes n, comma separated; 2^k allowed (default: per experiment, 2^8…2^20 for degree-vs-b).")
    var n: CommaList<Size>?

    @Option(name: .customLong("c-min"), help: "Smallest B/√ln n of the log-spaced grid (default 0.02).")
    var cMin: Double?

    @Option(name: .customLong("c-max"), help: "Largest B/√ln n of the grid (default 3).")
    var cMax: Double?

    @Option(name: .customLong("c-steps"), help: "Number of grid values of B/√ln n (default: per experiment).")
    var cSteps: Int?

    @Option(name: .customLong("B"), help: "Absolute B values, comma separated, instead of the B/√ln n grid.")
    var bList: CommaList<Double>?

    @Option(help: "Input distributions, comma separated: uniform, signs, gaussian (default uniform; error-vs-b and erank-vs-b only).")
    var distribution: CommaList<InputDistribution>?

    @Option(help: "Trials per (n, B) for the randomized experiments (default 1).")
    var trials: Int?

    @Option(name: .customLong("C"), help: "d = ⌈C·ln n⌉ (the theorem's regime d = Θ(log n)).")
    var dConstant: Double = 1

    @Option(name: .customLong("d"), help: "Fixed d for every n instead of ⌈C·ln n⌉ (the transition then moves like a power of n).")
    var fixedD: Int?

    @Option(name: .customLong("hard-C"), help: "d = ⌈C_hard·ln n⌉ for hard-instance (random ±1 vectors must be far apart).")
    var hardC: Double = 8

    @Option(name: .customLong("eps-power"), help: "Target relative error ε = n^(−p) for degree-vs-b and the ε-rank.")
    var epsPower: Double = 1

    @Option(help: "Rank budget r ≤ n^γ for error-vs-b and hard-instance.")
    var gamma: Double = 0.75

    @Option(help: "Rows checked against exact attention in error-vs-b (all rows when n is at most this).")
    var rows: Int = 64

    @Option(name: .customLong("max-degree"), help: "Largest polynomial degree searched; beyond it the exponent is reported as inf.")
    var maxDegree: Int = 400

    @Option(help: "Polynomial family: chebyshev (near-minimax), shifted (non-negative coefficients) or taylor.")
    var family: ExpFamily = .chebyshev

    @Option(help: "Seed; point k uses SplitMix64.mix(seed, k).")
    var seed: UInt64 = 1

    @OptionGroup var threadsOption: ThreadsOption
    var threads: Int? { threadsOption.threads }

    @Option(name: [.customLong("out"), .short], help: "Output folder (created if missing).")
    var out: String = "out"

    @Flag(help: "Continue a killed run from its .csv.partial file.")
    var resume = false

    @Option(help: "Run shard i of N (1 ≤ i ≤ N): the points with index ≡ i−1 mod N. Join with `attnbound merge`.")
    var shard: String?

    @Flag(help: "Add a `seconds` column: wall time per point (timings vary, so the CSV is then no longer byte-reproducible).")
    var timing = false

    @Flag(name: .customLong("no-plot"), help: "Do not write the SVG.")
    var noPlot = false

    @Flag(help: "Print one JSON object (files, points, time, summary) on stdout.")
    var json = false

    func validate() throws {
        if let s = cSteps, !(1...10_000).contains(s) { throw ValidationError("--c-steps must be in 1...10000") }
        for (flag, v) in [("--c-min", cMin), ("--c-max", cMax)] {
            if let v, !(v > 0 && v.isFinite && v <= 100) { throw ValidationError("\(flag) must be in (0, 100]") }
        }
        if let a = cMin, let b = cMax, a > b { throw ValidationError("--c-min \(a) is above --c-max \(b)") }
        if bList != nil && (cMin != nil || cMax != nil || cSteps != nil) {
            throw ValidationError("--B cannot be combined with --c-min/--c-max/--c-steps")
        }
        if let o = out as String?, o.isEmpty { throw ValidationError("--out: empty path") }
    }

    /// The configuration the flags describe.
    func makeConfiguration() throws -> SweepConfiguration {
        let exps = experiment?.items ?? Experiment.allCases
        let (ns, bs, dists) = (n?.items.map(\.value), bList?.items, distribution?.items)
        var grids: [Experiment: ExperimentGrid] = [:]
        for e in exps {
            var g = SweepConfiguration.defaultGrids[e]!
            if let ns { g.ns = ns }
            if let bs { g.b = .absolute(bs) }
            if cMin != nil || cMax != nil || cSteps != nil, case .relative(let cs) = g.b {
                let lo = cMin ?? cs.first!, hi = cMax ?? cs.last!
                guard lo <= hi else { throw AttnError.usage("--c-min \(lo) is above --c-max \(hi)") }
                g.b = .relative(BGrid.logSpaced(lo, hi, count: cSteps ?? cs.count))
            }
            if let dists { g.distributions = dists }
            if let trials { g.trials = trials }
            grids[e] = g
        }
        let cfg = SweepConfiguration(experiments: exps, grids: grids, seed: seed, dConstant: dConstant, fixedD: fixedD,
                                     hardDConstant: hardC, epsilonPower: epsPower, gamma: gamma, sampleRows: rows,
                                     maxDegree: maxDegree, timing: timing)
        try cfg.validate()
        return cfg
    }

    func run() throws {
        let cfg = try makeConfiguration()
        let sh = try shard.map(Shard.init(parsing:)) ?? .whole
        let backend = SweepBackend.make(family: family)
        let dir = URL(fileURLWithPath: out)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), !isDir.boolValue {
            throw AttnError.usage("--out \(out): exists and is not a folder")
        }
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw AttnError.usage("--out \(out): cannot create the folder")
        }
        let workers = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let runner = SweepRunner(configuration: cfg, backend: backend, shard: sh, threads: workers, directory: dir)
        if let d = cfg.fixedD, !json {
            printNote("note: d is fixed at \(d) for every n; the transition then moves like a power of n and no longer sits at B = Θ(√ln n)")
        }
        let progress = ProgressLine.make(label: "sweep" + (sh.isWhole ? "" : " shard \(sh)"))
        var onProgress: (@Sendable (Int, Int, Double) -> Void)?
        if let progress {
            onProgress = { @Sendable done, total, fraction in progress.update(done: done, total: total, fraction: fraction) }
        }
        let result = try runner.run(resume: resume, version: Attnbound.version,
                                    argv: Array(CommandLine.arguments.dropFirst()), progress: onProgress)
        progress?.finish()
        var svgPath: String?
        if !noPlot && sh.isWhole {
            let svg = try SweepPlot.svg(try SweepTable(csv: result.csvText, source: result.csv.path))
            let url = dir.appendingPathComponent(runner.stem + ".svg")
            try AtomicFile.write(svg, to: url)
            svgPath = url.path
        }
        print(try json ? runner.json(result, svg: svgPath).serialized() : runner.text(result, svg: svgPath))
    }
}
