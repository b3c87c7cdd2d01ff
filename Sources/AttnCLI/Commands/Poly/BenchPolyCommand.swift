import ArgumentParser
import AttnCore
import AttnKernels
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
        func seconds(_ x: Double?, _ w: Int) -> String { x.map { String(format: "%\(w).6f", $0) } ?? String(repeating: " ", count: w - 1) + "—" }
        if options.json {
            let rows: [JSONValue] = r.points.map { p in
                .object([("n", .int(p.n)), ("poly_seconds", .double(p.poly)), ("exact_seconds", p.exact.map { .double($0) } ?? .null),
                         ("poly_cpu_seconds", .double(p.polyCPU)), ("exact_cpu_seconds", p.exactCPU.map { .double($0) } ?? .null)])
            }
            let fine: [JSONValue] = r.crossoverGrid.map { p in
                .object([("n", .int(p.n)), ("poly_seconds", .double(p.poly)), ("exact_seconds", .double(p.exact!))])
            }
            print(JSONValue.object([("blas", BLASInfo.current.json), 
                ("benchmark", "poly"), ("d", .int(d)), ("B", .double(B)), ("scale", "paper"), ("eps", .double(eps)),
                ("family", .string(family.rawValue)), ("degree", .int(r.degree)), ("rank", .int(r.rank)),
                ("threads", .int(s.threads)), ("runs", .int(options.runs)), ("seed", 1), ("results", .array(rows)),
                ("crossover_grid", .array(fine)), ("poly_exponent", .double(r.polyExponent)),
                ("exact_exponent", .double(r.exactExponent)), ("poly_cpu_exponent", .double(r.polyCPUExponent)),
                ("load_average", .string(load)), ("crossover_measured", .double(r.measuredCrossover)),
                ("crossover_model", .double(r.modelCrossover)),
                ("crossover_ratio", .double(r.modelCrossover / r.measuredCrossover)),
            ]).serialized())
            return
        }
        print("bench poly: d = \(d), B = \(B), scale 1/d (R = \(sci(r.radius))), ε = \(sci(eps)), family = \(family.rawValue), degree g = \(r.degree), rank r = \(r.rank), Float32, \(s.threads) threads, median of \(options.runs), load average \(load)")
        print("       n      poly s     exact s   exact/poly   poly cpu s  exact cpu s")
        for p in r.points {
            let ratio = p.exact.map { String(format: "%12.1f", $0 / p.poly) } ?? "           —"
            print(String(format: "%8d %11.6f ", p.n, p.poly) + seconds(p.exact, 11) + " " + ratio
                  + String(format: " %12.6f ", p.polyCPU) + seconds(p.exactCPU, 12))
        }
        print("fitted exponent of time vs n: poly \(fmt(r.polyExponent, 3)) (n = 2^\(minLog2)…2^\(maxLog2); CPU time: \(fmt(r.polyCPUExponent, 3))), exact \(fmt(r.exactExponent, 3)) (n ≤ 2^\(exactMaxLog2))")
        print("crossover grid (n, poly s, exact s): " + r.crossoverGrid.map { "\($0.n): \(sci($0.poly))/\(sci($0.exact!))" }.joined(separator: ", "))
        print("crossover n: measured \(fmt(r.measuredCrossover, 0)), cost model \(fmt(r.modelCrossover, 0)) (κ_exp = \(fmt(r.model.expCost, 0))), model/measured = \(fmt(r.modelCrossover / r.measuredCrossover, 2))")
    }
}
