import ArgumentParser
import AttnCore
import AttnPoly
import Foundation

/// `attnbound bench poly`: prints `PolyBenchmark`'s report (the library does the timing and fits).
struct BenchPolyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poly",
        abstract: "Polynomial method time vs n (d = 4, B = 1, ε = 1e-6) beside the fast exact kernel.",
        discussion: """
            Float32, one head, inputs uniform in [−B, B] (seed 1), scale s = 1/d (paper), n_q = n_k = n. \
            The polynomial method uses R = s·d·B² and the certified degree for ε. The exact kernel runs \
            up to --exact-max-log2; the crossover is measured on a finer grid of small n.
            """)

    @OptionGroup var options: BenchOptions
    @OptionGroup var threadsOption: ThreadsOption
    @Option(help: "Smallest n as a power of two.") var minLog2: Int = 10
    @Option(help: "Largest n as a power of two.") var maxLog2: Int = 18
    @Option(help: "Largest n (power of two) at which the exact kernel is timed.") var exactMaxLog2: Int = 15
    @Option(help: "Head dimension d (= d_v).") var d: Int = 4
    @Option(name: .customLong("B"), help: "Entry bound B.") var B: Double = 1
    @Option(help: "Target relative error ε of the polynomial.") var eps: Double = 1e-6
    @Option(help: "Polynomial family: taylor, chebyshev (default), interpolant or shifted.") var family: ExpFamily = .chebyshev

    func validate() throws {
        guard (4...22).contains(minLog2), (minLog2...22).contains(maxLog2) else {
            throw ValidationError("need 4 ≤ --min-log2 ≤ --max-log2 ≤ 22")
        }
        guard (4...17).contains(exactMaxLog2) else { throw ValidationError("--exact-max-log2 must be in 4...17") }
        guard (1...16).contains(d) else { throw ValidationError("--d must be in 1...16") }
        guard B.isFinite, B > 0 else { throw ValidationError("--B must be positive and finite") }
        guard eps.isFinite, eps > 0, eps < 1 else { throw ValidationError("--eps must be in (0, 1)") }
    }

    func run() throws {
        options.printBLAS()
        var s = PolyBenchmark.Setup()
        (s.minLog2, s.maxLog2, s.exactMaxLog2, s.d, s.B, s.epsilon) = (minLog2, maxLog2, exactMaxLog2, d, B, eps)
        (s.family, s.threads, s.runs) = (family, threadsOption.count, options.runs)
        let r = try PolyBenchmark.run(s) { printNote("bench poly: n = \($0) done") }
        let load = Timing.loadAverage()
        print(options.json ? r.json(s, loadAverage: load).serialized() : r.text(s, loadAverage: load))
    }
}
