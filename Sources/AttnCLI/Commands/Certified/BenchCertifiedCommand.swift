import ArgumentParser
import AttnCertified
import AttnCore
import AttnKernels
import Foundation

/// `attnbound bench certified`: certified attention (n = 256, d = 16, 256
/// bits, one head, scale 1/√d by default) beside the Float64 reference
/// kernel on the same inputs, in the same run.
struct BenchCertifiedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certified",
        abstract: "Time certified attention: n = 256, d = 16, 256 bits, scale 1/√d.",
        discussion: "Target: ≤ 0.1 s on this machine for the defaults. Yardstick: the Float64 reference kernel.")

    @OptionGroup var options: BenchOptions

    @Option(help: "Sequence length n (n_q = n_k = n).")
    var n: Int = 256

    @Option(help: "Head dimension d (= d_v).")
    var d: Int = 16

    @Option(help: "Precision of the certified enclosures, in bits.")
    var precision: Int = 256

    @Option(help: "Softmax scale: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.")
    var scale: Scale = .standard

    @Option(help: "Worker threads for the multi-threaded figure.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Seed of the uniform [−1, 1] Float32 inputs.")
    var seed: UInt64 = 42

    func validate() throws {
        guard (1...4096).contains(n) else { throw ValidationError("--n must be in 1...4096") }
        guard (1...1024).contains(d) else { throw ValidationError("--d must be in 1...1024") }
        guard CertifiedAttention.precisionRange.contains(precision) else {
            throw ValidationError("--precision must be in \(CertifiedAttention.precisionRange)")
        }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1...256") }
    }

    func run() throws {
        options.printBLAS()
        var rng = Xoshiro256StarStar(seed: seed)
        let q: Tensor<Float> = InputDistribution.uniform.sample(rows: n, cols: d, bound: 1, using: &rng)
        let k: Tensor<Float> = InputDistribution.uniform.sample(rows: n, cols: d, bound: 1, using: &rng)
        let v: Tensor<Float> = InputDistribution.uniform.sample(rows: n, cols: d, bound: 1, using: &rng)
        var width = 0.0
        let certified = try Timing.median(runs: options.runs) {
            width = try CertifiedAttention.compute(q: q, k: k, v: v, scale: scale, precision: precision,
                                                   threads: threads).maxWidth
        }
        let single = try Timing.median(runs: options.runs) {
            _ = try CertifiedAttention.compute(q: q, k: k, v: v, scale: scale, precision: precision, threads: 1)
        }
        let reference = try Timing.median(runs: options.runs) {
            _ = try ReferenceAttention.compute(q: q, k: k, v: v, scale: scale)
        }
        let log2Width = width > 0 ? Foundation.log2(width) : -.infinity
        if options.json {
            print(JSONValue.object([("blas", BLASInfo.current.json), 
                ("benchmark", "certified"), ("n", .int(n)), ("d", .int(d)), ("precision_bits", .int(precision)),
                ("scale", .string(scale.description)), ("threads", .int(threads)), ("runs", .int(options.runs)),
                ("seed", .int(Int(truncatingIfNeeded: seed))),
                ("seconds", .double(certified)), ("seconds_one_thread", .double(single)),
                ("reference_seconds", .double(reference)), ("ratio_to_reference", .double(certified / reference)),
                ("max_width_bound", .double(width)), ("log2_max_width_bound", .double(log2Width)),
                ("target_seconds", .double(0.1)), ("meets_target", .bool(certified <= 0.1)),
            ]).serialized())
        } else {
            print("certified attention, n = \(n), d = \(d), \(precision) bits, scale \(scale), one head, seed \(seed)")
            print("  MPFR \(MPFRLibrary.version), median of \(options.runs) runs")
            print(String(format: "  certified (%d threads): %.4f s   (target ≤ 0.1 s: %@)", threads, certified,
                         certified <= 0.1 ? "met" : "missed"))
            print(String(format: "  certified (1 thread):   %.4f s", single))
            print(String(format: "  Float64 reference:      %.6f s   ratio certified/reference %.0f×", reference,
                         certified / reference))
            print(String(format: "  widest enclosure:       %.3e = 2^%.1f", width, log2Width))
        }
    }
}
