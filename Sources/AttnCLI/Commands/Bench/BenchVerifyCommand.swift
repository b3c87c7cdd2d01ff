import ArgumentParser
import AttnCertified
import AttnCore
import AttnKernels

/// `attnbound bench verify`: the whole tiered `verify` (read the files, certify)
/// against the fast Float64 exact kernel on the same tensors, in the same run.
struct BenchVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Tiered verify of a float32 candidate vs the fast Float64 kernel (n = 4096, d = 128, 8 heads).")

    @OptionGroup var options: BenchOptions

    @Option(help: "Sequence length n (n_q = n_k = n).") var n: Int = 4096
    @Option(help: "Head dimension d.") var d: Int = 128
    @Option(help: "Heads.") var heads: Int = 8

    func validate() throws {
        guard (1...65536).contains(n), (1...1024).contains(d), (1...256).contains(heads) else {
            throw ValidationError("--n must be in 1...65536, --d in 1...1024, --heads in 1...256")
        }
    }

    func run() throws {
        options.printBLAS()
        let r = try VerifyBenchmark.run(
            n: n, d: d, heads: heads, runs: options.runs,
            candidate: { q, k, v in try FastAttention.compute(q: q, k: k, v: v, scale: .standard) },   // a float32 SDPA
            yardstick: { q, k, v in _ = try FastAttention.compute(q: q, k: k, v: v, scale: .standard) })
        if options.json {
            print(JSONValue.object(r.jsonFields + [("blas", BLASInfo.current.json)]).serialized())
        } else {
            r.summary.forEach { print($0) }
        }
    }
}
