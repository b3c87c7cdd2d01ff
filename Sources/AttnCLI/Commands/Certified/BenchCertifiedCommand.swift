import ArgumentParser
import AttnCertified
import AttnCore
import AttnExperiments
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

    @OptionGroup var threadsOption: ThreadsOption

    @Option(help: "Seed of the uniform [−1, 1] Float32 inputs.")
    var seed: UInt64 = 42

    func validate() throws {
        guard (1...4096).contains(n) else { throw ValidationError("--n must be in 1...4096") }
        guard (1...1024).contains(d) else { throw ValidationError("--d must be in 1...1024") }
        guard CertifiedAttention.precisionRange.contains(precision) else {
            throw ValidationError("--precision must be in \(CertifiedAttention.precisionRange)")
        }
    }

    func run() throws {
        options.printBLAS()
        var s = CertifiedBenchmark.Setup()
        (s.n, s.d, s.precision, s.scale, s.threads, s.runs, s.seed) =
            (n, d, precision, scale, threadsOption.count, options.runs, seed)
        let report = try CertifiedBenchmark.run(s)
        print(options.json ? report.json.serialized() : report.text)
    }
}
