import ArgumentParser
import AttnKit
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = command(
        "bench", "Benchmarks, as ratios to a yardstick measured in the same run.",
        subcommands: [
            BenchExactCommand.self, BenchCertifiedCommand.self, BenchVerifyCommand.self, BenchPolyCommand.self,
            BenchPagedCommand.self, BenchSparseCommand.self,
        ])
}

struct BenchOptions: ParsableArguments {
    @Option(help: "Timed runs per figure; the median is reported.") var runs = 5
    @Flag(help: "Print one JSON object instead of a table.") var json = false
    func validate() throws {
        guard (1...1000).contains(runs) else { throw ValidationError("--runs must be in 1...1000") }
    }
    /// Runs a benchmark, then writes the BLAS line (CONVENTIONS.md; JSON carries `blas`), the generic-core
    /// warning on stderr, and the report: a bad parameter prints nothing else.
    func emit(_ run: () throws -> RunReport) throws {
        let report = try run(), info = BLASInfo.current
        if let w = info.warning { printNote(w) }
        if !json { print(info.summary) }
        try AttnCLI.emit(report, out: nil, json: json)
    }
}

extension KernelISA: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { names }
}

struct BenchExactCommand: ParsableCommand {
    static let configuration = command("exact", "Fused exact kernel (one head) vs sgemm 2048³, interleaved in one run.")
    @OptionGroup var options: BenchOptions
    @Option(parsing: .upToNextOption, help: "Sequence lengths n (n_q = n_k = n).") var n = [1024, 4096]
    @Option(parsing: .upToNextOption, help: "Head dimensions d (= d_v), e.g. --d 64 128.") var d = [64]
    @Option(help: "Query rows n_q (default: n_q = n; 1 for a decode step).") var queries: Int?
    @Option(help: "Folder to write each case's Q, K, V as .npy (for peer benchmarks).") var inputsOut: String?
    @OptionGroup var model: ScoreModelOptions
    @Flag(help: "Time the fused backward (dQ, dK, dV; rates count 2.5× the flops).") var backward = false
    @Option(help: "Working precision: float32 or float64.") var precision = Precision.float32
    @OptionGroup var threads: ThreadsOption
    @Option(help: "Query rows per job of the fused kernel.") var queryTile = TileSizes.default.queryTile
    @Option(help: "Kernel copy: auto, baseline, avx2 or avx512 (never more than the CPU has).") var isa = KernelISA.auto
    func run() throws {
        var s = ExactBenchmark.Setup()
        (s.sizes, s.headDims, s.queries, s.double) = (n, d, queries, precision == .float64)
        (s.scoreModel, s.backward) = try (model.loadScoreModel(), backward)
        (s.threads, s.runs, s.queryTile, s.isa, s.inputsOut) = (threads.count, options.runs, queryTile, isa, inputsOut)
        try options.emit { try ExactBenchmark.run(s) }
    }
}

struct BenchVerifyCommand: ParsableCommand {
    static let configuration = command("verify", "Tiered verify of a float32 candidate vs the fast Float64 kernel.")
    @OptionGroup var options: BenchOptions
    @Option(help: "Sequence length n (n_q = n_k = n).") var n = 4096
    @Option(help: "Head dimension d.") var d = 128
    @Option(help: "Heads.") var heads = 8
    func run() throws {
        try options.emit { try VerifyBenchmark.fastKernel(n: n, d: d, heads: heads, runs: options.runs) }
    }
}

struct BenchPolyCommand: ParsableCommand {
    static let configuration = command("poly", "Polynomial method time vs n beside the exact kernel; the crossover.")
    @OptionGroup var options: BenchOptions
    @OptionGroup var threads: ThreadsOption
    @Option(help: "Smallest n as a power of two.") var minLog2 = 10
    @Option(help: "Largest n as a power of two.") var maxLog2 = 18
    @Option(help: "Largest n (power of two) at which the exact kernel is timed.") var exactMaxLog2 = 15
    @Option(help: "Head dimension d (= d_v).") var d = 4
    @Option(name: .customLong("B"), help: "Entry bound B.") var B = 1.0
    @Option(help: "Target relative error ε of the polynomial.") var eps = 1e-6
    @Option(help: "Family of P: taylor, chebyshev (default), interpolant or shifted.") var family = ExpFamily.chebyshev
    func run() throws {
        var s = PolyBenchmark.Setup()
        (s.minLog2, s.maxLog2, s.exactMaxLog2, s.d, s.B, s.epsilon) = (minLog2, maxLog2, exactMaxLog2, d, B, eps)
        (s.family, s.threads, s.runs) = (family, threads.count, options.runs)
        try options.emit { try PolyBenchmark.report(s) { printNote("bench poly: n = \($0) done") } }
    }
}
