import ArgumentParser
import AttnCore
import AttnKernels
import Foundation

/// `attnbound bench exact`: the fast kernel's GFLOP/s beside sgemm's.
struct BenchExactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exact",
        abstract: "Fast exact kernel (Float32, one head, d = 64) vs OpenBLAS sgemm 2048³ in the same process.")

    @OptionGroup var options: BenchOptions

    @Option(parsing: .upToNextOption, help: "Sequence lengths n (n_q = n_k = n).")
    var n: [Int] = [1024, 4096]

    @Option(help: "Head dimension d.")
    var d: Int = 64

    @OptionGroup var threadsOption: ThreadsOption
    var threads: Int { threadsOption.count }

    @Option(help: "Query rows per tile of the fast kernel.")
    var queryTile: Int = TileSizes.default.queryTile

    @Option(help: "Keys per score tile of the fast kernel.")
    var keyTile: Int = TileSizes.default.keyTile

    func validate() throws {
        guard (1...8192).contains(queryTile), (1...65536).contains(keyTile) else {
            throw ValidationError("--query-tile must be in 1...8192 and --key-tile in 1...65536")
        }
        guard n.allSatisfy({ (1...65536).contains($0) }) else { throw ValidationError("--n must be in 1...65536") }
        guard (1...1024).contains(d) else { throw ValidationError("--d must be in 1...1024") }
    }

    func run() throws {
        // Interleave yardstick and kernel runs so that load changes on a noisy
        // machine hit both alike; report medians.
        let gemm = GemmBenchmark.Problem()
        _ = gemm.rate(threads: threads)
        let tiles = TileSizes(queryTile: queryTile, keyTile: keyTile)
        var sgemmRates: [Double] = []
        var kernelTimes = [[Double]](repeating: [], count: n.count)
        let inputs: [(Tensor<Float>, Tensor<Float>, Tensor<Float>)] = n.map { size in
            var rng = Xoshiro256StarStar(seed: 42)
            return (InputDistribution.uniform.sample(rows: size, cols: d, bound: 1, using: &rng),
                    InputDistribution.uniform.sample(rows: size, cols: d, bound: 1, using: &rng),
                    InputDistribution.uniform.sample(rows: size, cols: d, bound: 1, using: &rng))
        }
        for (q, k, v) in inputs { _ = try FastAttention.compute(q: q, k: k, v: v, scale: .standard, tiles: tiles, threads: threads) }
        for _ in 0..<options.runs {
            sgemmRates.append(gemm.rate(threads: threads))
            // OpenBLAS's idle workers spin for a while after a call; let them
            // sleep before timing our kernel, or they steal its second core.
            usleep(300_000)
            for (i, (q, k, v)) in inputs.enumerated() {
                kernelTimes[i].append(try Timing.seconds {
                    _ = try FastAttention.compute(q: q, k: k, v: v, scale: .standard, tiles: tiles, threads: threads)
                })
            }
        }
        let sgemm = Timing.median(of: sgemmRates)
        var rows: [JSONValue] = []
        if !options.json {
            print("sgemm 2048³ (OpenBLAS, \(threads) threads): \(fmt(sgemm)) GFLOP/s, median of \(options.runs) interleaved runs")
            print("fast kernel tiles: \(queryTile) query rows × \(keyTile) keys, Float32, one head, scale 1/√d")
            print("     n    d   kernel GFLOP/s   ratio to sgemm   median s")
        }
        for (i, size) in n.enumerated() {
            let t = Timing.median(of: kernelTimes[i])
            let rate = 4 * Double(size) * Double(size) * Double(d) / t / 1e9
            if options.json {
                rows.append(.object([("n", .int(size)), ("d", .int(d)), ("gflops", .double(rate)),
                                     ("ratio_to_sgemm", .double(rate / sgemm)), ("seconds", .double(t))]))
            } else {
                print(String(format: "%6d %4d %16@ %16@ %10.5f", size, d, fmt(rate), fmt(rate / sgemm, 3), t))
            }
        }
        if options.json {
            print(JSONValue.object([("benchmark", "exact"), ("threads", .int(threads)), ("runs", .int(options.runs)),
                                    ("sgemm_gflops", .double(sgemm)), ("results", .array(rows))]).serialized())
        }
    }
}

/// Fixed-width number for tables.
func fmt(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }
