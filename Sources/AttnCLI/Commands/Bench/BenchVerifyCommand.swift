import ArgumentParser
import AttnExperiments

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
        var s = VerifyBenchmark.Setup()
        (s.n, s.d, s.heads, s.runs) = (n, d, heads, options.runs)
        let report = try VerifyBenchmark.run(s)
        print(options.json ? report.json.serialized() : report.text)
    }
}
