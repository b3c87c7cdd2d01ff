import ArgumentParser
import AttnCore
import AttnKernels
import Foundation

/// `attnbound bench exact`: the fused exact kernel's GFLOP/s beside sgemm's.
struct BenchExactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exact",
        abstract: "Fused exact kernel (one head) vs OpenBLAS sgemm 2048³, interleaved in the same process.")

    @OptionGroup var options: BenchOptions

    @Option(parsing: .upToNextOption, help: "Sequence lengths n (n_q = n_k = n), e.g. --n 1024 4096.")
    var n: [Int] = [1024, 4096]

    @Option(parsing: .upToNextOption, help: "Head dimensions d (= d_v), e.g. --d 64 128.")
    var d: [Int] = [64]

    @Option(help: "Query rows n_q (default: n_q = n; 1 for a decode step).")
    var queries: Int?

    @Option(help: "Folder to write each case's Q, K, V as .npy (for peer benchmarks on identical inputs).")
    var inputsOut: String?

    @Flag(help: "Causal attention (rates count half the flops).")
    var causal = false

    @Option(help: "Working precision: float32 or float64.")
    var precision: Precision = .float32

    @OptionGroup var threadsOption: ThreadsOption
    var threads: Int { threadsOption.count }

    @Option(help: "Query rows per job of the fused kernel.")
    var queryTile: Int = TileSizes.default.queryTile

    @Option(help: "Kernel copy: auto, baseline, avx2 or avx512 (never more than the CPU has).")
    var isa: KernelISA = .auto

    func validate() throws {
        guard (1...8192).contains(queryTile) else { throw ValidationError("--query-tile must be in 1...8192") }
        guard !n.isEmpty, n.allSatisfy({ (1...65536).contains($0) }) else { throw ValidationError("--n must be in 1...65536") }
        guard !d.isEmpty, d.allSatisfy({ (1...256).contains($0) }) else { throw ValidationError("--d must be in 1...256") }
        if let queries, !(1...65536).contains(queries) { throw ValidationError("--queries must be in 1...65536") }
    }

    func run() throws {
        options.printBLAS()
        let (sgemm, points) = try ExactBenchmark.run(
            sizes: n, headDims: d, queries: queries, causal: causal, double: precision == .float64, threads: threads, runs: options.runs,
            tiles: TileSizes(queryTile: queryTile, keyTile: FastAttention.keyTile), isa: isa,
            inputsOut: inputsOut)
        if options.json {
            let rows: [JSONValue] = points.map { p in
                .object([("n", .int(p.n)), ("n_q", .int(p.queries)), ("d", .int(p.d)), ("gflops", .double(p.gflops)),
                         ("ratio_to_sgemm", .double(p.gflops / sgemm)), ("seconds", .double(p.seconds))])
            }
            print(JSONValue.object([("blas", BLASInfo.current.json), ("benchmark", "exact"), ("threads", .int(threads)),
                                    ("runs", .int(options.runs)), ("causal", .bool(causal)),
                                    ("precision", .string(precision.rawValue)), ("isa", .string(isa.resolved.description)),
                                    ("sgemm_gflops", .double(sgemm)), ("results", .array(rows))]).serialized())
            return
        }
        print("sgemm 2048³ (\(threads) threads): \(fmt(sgemm)) GFLOP/s, median of \(options.runs) interleaved runs")
        print("fused kernel (\(isa.resolved)): \(queryTile) query rows per job, \(FastAttention.keyTile)-key tiles, "
              + "\(precision.rawValue), one head, scale 1/√d\(causal ? ", causal (rates count half the flops)" : "")")
        print("     n    n_q    d   kernel GFLOP/s   ratio to sgemm   median s")
        for p in points {
            print(String(format: "%6d %6d %4d %16.1f %16.3f %10.5f", p.n, p.queries, p.d, p.gflops, p.gflops / sgemm, p.seconds))
        }
    }
}

extension KernelISA: ExpressibleByArgument {
    public init?(argument: String) {
        let names: [String: KernelISA] = ["auto": .auto, "baseline": .baseline, "avx2": .avx2, "avx512": .avx512]
        guard let v = names[argument.lowercased()] else { return nil }
        self = v
    }
    public static var allValueStrings: [String] { ["auto", "baseline", "avx2", "avx512"] }
}

/// Fixed-width number for tables.
func fmt(_ x: Double, _ digits: Int = 1) -> String { TextFormat.fixed(x, digits) }
