import ArgumentParser
import AttnKit

extension Experiment: ExpressibleByArgument {}
extension InputDistribution: ExpressibleByArgument {}

struct SweepCommand: ParsableCommand {
    static let configuration = command(
        "sweep", "The B = Θ(√log n) threshold experiments into CSV + sidecar + SVG.",
        discussion: "The CSV is byte-identical for a --seed whatever --threads, after --resume and after merge.")
    @Option(help: "Any of \(Experiment.names).") var experiment: CommaList<Experiment>?
    @Option(help: "Sizes n; 2^k allowed (default: per experiment, 2^8…2^20 for degree-vs-b).") var n: CommaList<Size>?
    @Option(help: "Smallest B/√ln n of the grid (default 0.02).") var cMin: Double?
    @Option(help: "Largest B/√ln n of the grid (default 3).") var cMax: Double?
    @Option(help: "Grid values of B/√ln n (default: per experiment).") var cSteps: Int?
    @Option(name: .customLong("B"), help: "Absolute B values instead of the B/√ln n grid.") var bs: CommaList<Double>?
    @Option(help: "Inputs: uniform (default), signs, gaussian.") var distribution: CommaList<InputDistribution>?
    @Option(help: "Trials per (n, B) for the randomized experiments (default 1).") var trials: Int?
    @Option(name: .customLong("C"), help: "d = ⌈C·ln n⌉ (the theorem's regime d = Θ(log n)).") var dConstant = 1.0
    @Option(name: .customLong("d"), help: "Fixed d for every n instead of ⌈C·ln n⌉.") var fixedD: Int?
    @Option(name: .customLong("hard-C"), help: "d = ⌈C_hard·ln n⌉ for hard-instance.") var hardC = 8.0
    @Option(help: "Target relative error ε = n^(−p) for degree-vs-b and the ε-rank.") var epsPower = 1.0
    @Option(help: "Rank budget r ≤ n^γ for error-vs-b and hard-instance.") var gamma = 0.75
    @Option(help: "Rows checked against exact attention in error-vs-b (all if n ≤ this).") var rows = 64
    @Option(help: "Largest polynomial degree searched; beyond it the exponent is inf.") var maxDegree = 400
    @Option(help: "Family of P: chebyshev, shifted (non-negative) or taylor.") var family = ExpFamily.chebyshev
    @Option(help: "Seed; point k uses SplitMix64.mix(seed, k).") var seed: UInt64 = 1
    @OptionGroup var threads: ThreadsOption
    @Option(name: [.customLong("out"), .short], help: "Output folder (created if missing).") var out = "out"
    @Flag(help: "Continue a killed run from its .csv.partial file.") var resume = false
    @Option(help: "Run shard i of N: the points with index ≡ i−1 mod N (join with `merge`).") var shard: String?
    @Flag(help: "Add a `seconds` column (the CSV is then no longer byte-reproducible).") var timing = false
    @Flag(help: "Do not write the SVG.") var noPlot = false
    @OptionGroup var format: JSONOption
    func run() throws {
        var r = SweepRequest()
        (r.experiments, r.ns, r.bValues) = (experiment?.items, n?.items.map(\.value), bs?.items)
        (r.cMin, r.cMax, r.cSteps, r.distributions, r.trials) = (cMin, cMax, cSteps, distribution?.items, trials)
        (r.dConstant, r.fixedD, r.hardDConstant, r.epsilonPower, r.gamma) = (dConstant, fixedD, hardC, epsPower, gamma)
        (r.sampleRows, r.maxDegree, r.family, r.seed, r.threads) = (rows, maxDegree, family, seed, threads.count)
        (r.resume, r.timing, r.plot, r.shard) = (resume, timing, !noPlot, try shard.map(Shard.init(parsing:)) ?? .whole)
        let progress = ProgressLine.make(label: "sweep" + (r.shard.isWhole ? "" : " shard \(r.shard)"))
        let argv = Array(CommandLine.arguments.dropFirst())
        let note: ((String) -> Void)? = format.json ? nil : { printNote($0) }
        let report = try SweepRunner.run(
            r, in: out, version: Attnbound.version, argv: argv, progress: progress, note: note)
        try emit(report, out: nil, json: format.json)
    }
}

struct MergeCommand: ParsableCommand {
    static let configuration = command("merge", "Merge all N shards of a sweep (CSVs with sidecars) into one CSV.")
    @Argument(help: "Shard CSVs written by `attnbound sweep --shard i/N`.") var inputs: [String]
    @OptionGroup var output: OutputOption
    func run() throws {
        try emit(SweepMerge.run(inputs, into: output.required(), version: Attnbound.version), out: nil, json: false)
    }
}

struct PlotCommand: ParsableCommand {
    static let configuration = command("plot", "Draw a sweep CSV as SVG: the metric vs B and B/√ln n, a curve per n.")
    @Argument(help: "A CSV written by `attnbound sweep` or `attnbound merge`.") var csv: String
    @OptionGroup var output: OutputOption
    func run() throws { try emit(SweepPlot.write(csv: csv, to: output.required()), out: nil, json: false) }
}

struct RegimeCommand: ParsableCommand {
    static let configuration = command("regime", "Where a model's heads sit against B = Θ(√log n): degree, rank, cost.")
    @Option(help: "Queries: .npy [n_q, d], [heads, n_q, d] or [batch, heads, n_q, d].") var q: String
    @Option(help: "Keys: .npy [n_k, d], [heads_kv, n_k, d] or [batch, heads_kv, n_k, d].") var k: String
    @Option(help: "Softmax scale: standard (1/√d, the default), paper (1/d) or a decimal.") var scale = Scale.standard
    @Option(help: "Target sup relative error ε of the polynomial for exp, in (0, 1) (default: 1/n).") var eps: Double?
    @Option(help: "ε = n^(−p) instead of a fixed ε, p in (0, 8] (default 1).") var epsPower: Double?
    @Option(help: "Family of P: chebyshev, interpolant, taylor or shifted.") var family = ExpFamily.chebyshev
    @OptionGroup var output: OutputOption
    @OptionGroup var format: JSONOption
    func run() throws {
        let options = try Regime.Options(scale: scale, epsilon: .init(fixed: eps, power: epsPower), family: family)
        let report = try Regime.run(q: q, k: k, options: options, progress: .make(label: "regime (heads)"))
        try emit(report, out: output.path, json: format.json)
    }
}
