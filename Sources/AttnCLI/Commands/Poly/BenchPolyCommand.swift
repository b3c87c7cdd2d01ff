import ArgumentParser
import AttnCore
import AttnKernels
import AttnPoly
import Foundation

/// `attnbound bench poly`: the polynomial method's time vs n beside the fast
/// exact kernel (the yardstick, measured in the same run), the fitted
/// exponent of time vs n, and the measured crossover vs the cost model's.
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

    @Option(help: "Smallest n as a power of two.")
    var minLog2: Int = 10

    @Option(help: "Largest n as a power of two.")
    var maxLog2: Int = 18

    @Option(help: "Largest n (power of two) at which the exact kernel is timed.")
    var exactMaxLog2: Int = 15

    @Option(help: "Head dimension d (= d_v).")
    var d: Int = 4

    @Option(name: .customLong("B"), help: "Entry bound B.")
    var B: Double = 1

    @Option(help: "Target relative error ε of the polynomial.")
    var eps: Double = 1e-6

    @Option(help: "Polynomial family: taylor, chebyshev (default), interpolant or shifted.")
    var family: ExpFamily = .chebyshev

    @Option(help: "Worker threads for both kernels (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard (4...22).contains(minLog2), (minLog2...22).contains(maxLog2) else {
            throw ValidationError("need 4 ≤ --min-log2 ≤ --max-log2 ≤ 22")
        }
        guard (4...17).contains(exactMaxLog2) else { throw ValidationError("--exact-max-log2 must be in 4...17") }
        guard (1...16).contains(d) else { throw ValidationError("--d must be in 1...16") }
        guard B.isFinite, B > 0 else { throw ValidationError("--B must be positive and finite") }
        guard eps.isFinite, eps > 0, eps < 1 else { throw ValidationError("--eps must be in (0, 1)") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1...256") }
    }

    /// Median wall-clock seconds and median process CPU seconds per run.
    struct Point { let n: Int; let poly: Double; let exact: Double?; let polyCPU: Double; let exactCPU: Double? }

    static func cpuNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Medians of wall and CPU time over `runs` runs after one warm-up (wall via `Timing`).
    static func measure(runs: Int, _ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
        try body()
        var wall: [Double] = [], cpu: [Double] = []
        for _ in 0..<max(1, runs) {
            let c0 = cpuNow()
            wall.append(try Timing.seconds(body))
            cpu.append(cpuNow() - c0)
        }
        return (Timing.median(of: wall), Timing.median(of: cpu))
    }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
    }

    func inputs(_ n: Int) -> (Tensor<Float>, Tensor<Float>, Tensor<Float>) {
        var rng = Xoshiro256StarStar(seed: 1)
        let q: Tensor<Float> = InputDistribution.uniform.sample(rows: n, cols: d, bound: B, using: &rng)
        let k: Tensor<Float> = InputDistribution.uniform.sample(rows: n, cols: d, bound: B, using: &rng)
        let v: Tensor<Float> = InputDistribution.uniform.sample(rows: n, cols: d, bound: B, using: &rng)
        return (q, k, v)
    }

    func time(_ n: Int, exact: Bool, runs: Int) throws -> Point {
        let (q, k, v) = inputs(n)
        let opts = PolyOptions(family: family, degree: .epsilon(eps), radius: .entryBound(B), threads: threads)
        let tp = try Self.measure(runs: runs) {
            _ = try PolyAttention.compute(q: q, k: k, v: v, scale: .paper, options: opts)
        }
        var te: (wall: Double, cpu: Double)? = nil
        if exact {
            te = try Self.measure(runs: runs) {
                _ = try FastAttention.compute(q: q, k: k, v: v, scale: .paper, threads: threads)
            }
        }
        return Point(n: n, poly: tp.wall, exact: te?.wall, polyCPU: tp.cpu, exactCPU: te?.cpu)
    }

    /// Least-squares slope of log t against log n.
    static func slope(_ pts: [(Double, Double)]) -> Double {
        guard pts.count >= 2 else { return .nan }
        let xs = pts.map { log2($0.0) }, ys = pts.map { log2($0.1) }
        let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
        var sxy = 0.0, sxx = 0.0
        for i in 0..<xs.count { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) * (xs[i] - mx) }
        return sxy / sxx
    }

    func run() throws {
        options.printBLAS()
        let R = ScoreRadius.fromEntryBound(B, d: d, scale: Scale.paper.value(d: d))
        guard let g = CertifiedExpBound.certifiedDegree(R: R, epsilon: eps, family: family),
              let r = PolyRank.rank(d: d, degree: g) else {
            throw AttnError.infeasible("no certified degree for ε = \(eps) at R = \(R)")
        }
        let model = CostModel()
        if !options.json {
            print("bench poly: d = \(d), B = \(B), scale 1/d (R = \(sci(R))), ε = \(sci(eps)), family = \(family.rawValue), degree g = \(g), rank r = \(r), Float32, \(threads) threads, median of \(options.runs), load average \(Self.loadAverage())")
            print("       n      poly s     exact s   exact/poly   poly cpu s  exact cpu s")
        }
        var points: [Point] = []
        for e in minLog2...maxLog2 {
            let n = 1 << e
            let runs = e >= 17 ? max(1, min(options.runs, 3)) : options.runs
            let p = try time(n, exact: e <= exactMaxLog2, runs: runs)
            points.append(p)
            if !options.json {
                let ex = p.exact.map { String(format: "%11.6f", $0) } ?? "          —"
                let ratio = p.exact.map { String(format: "%12.1f", $0 / p.poly) } ?? "           —"
                let excpu = p.exactCPU.map { String(format: "%12.6f", $0) } ?? "           —"
                print(String(format: "%8d %11.6f", n, p.poly) + " " + ex + " " + ratio + String(format: " %12.6f", p.polyCPU) + " " + excpu)
            }
            printNote("bench poly: n = \(n) done")
        }
        let polyExp = Self.slope(points.map { (Double($0.n), $0.poly) })
        let exactExp = Self.slope(points.compactMap { p in p.exact.map { (Double(p.n), $0) } })
        let polyCPUExp = Self.slope(points.map { (Double($0.n), $0.polyCPU) })
        // Crossover on a finer grid: n = 2^{k/4}, from 16 up, until poly wins twice in a row.
        var fine: [Point] = []
        var k = 16
        var wins = 0
        while k <= 4 * exactMaxLog2 {
            let n = Int((pow(2, Double(k) / 4)).rounded())
            let p = try time(n, exact: true, runs: max(options.runs, 5))
            fine.append(p)
            if p.poly < p.exact! { wins += 1 } else { wins = 0 }
            if wins >= 2 { break }
            k += 1
        }
        // Measured crossover: after the last n where exact was at least as fast, by geometric
        // interpolation of log(exact/poly) = 0 (robust to an early noisy "win").
        var measured = Double.nan
        if let lastLoss = fine.lastIndex(where: { $0.poly >= $0.exact! }) {
            if lastLoss + 1 < fine.count {
                let (a, b) = (fine[lastLoss], fine[lastLoss + 1])
                let la = log(a.exact! / a.poly), lb = log(b.exact! / b.poly)
                let t = la / (la - lb)
                measured = exp(log(Double(a.n)) + t * (log(Double(b.n)) - log(Double(a.n))))
            }
        } else if let first = fine.first {
            measured = Double(first.n)  // poly already wins at the smallest n tried
        }
        let predicted = model.crossover(d: d, valueCols: d, rank: Double(r))
        if options.json {
            let rows: [JSONValue] = points.map { p in
                .object([("n", .int(p.n)), ("poly_seconds", .double(p.poly)),
                         ("exact_seconds", p.exact.map { .double($0) } ?? .null),
                         ("poly_cpu_seconds", .double(p.polyCPU)),
                         ("exact_cpu_seconds", p.exactCPU.map { .double($0) } ?? .null)])
            }
            let fineRows: [JSONValue] = fine.map { p in
                .object([("n", .int(p.n)), ("poly_seconds", .double(p.poly)), ("exact_seconds", .double(p.exact!))])
            }
            print(JSONValue.object([("blas", BLASInfo.current.json), 
                ("benchmark", "poly"), ("d", .int(d)), ("B", .double(B)), ("scale", "paper"), ("eps", .double(eps)),
                ("family", .string(family.rawValue)), ("degree", .int(g)), ("rank", .int(r)), ("threads", .int(threads)),
                ("runs", .int(options.runs)), ("seed", 1), ("results", .array(rows)), ("crossover_grid", .array(fineRows)),
                ("poly_exponent", .double(polyExp)), ("exact_exponent", .double(exactExp)),
                ("poly_cpu_exponent", .double(polyCPUExp)), ("load_average", .string(Self.loadAverage())),
                ("crossover_measured", .double(measured)), ("crossover_model", .double(predicted)),
                ("crossover_ratio", .double(predicted / measured)),
            ]).serialized())
            return
        }
        print("fitted exponent of time vs n: poly \(fmt(polyExp, 3)) (n = 2^\(minLog2)…2^\(maxLog2); CPU time: \(fmt(polyCPUExp, 3))), exact \(fmt(exactExp, 3)) (n ≤ 2^\(exactMaxLog2))")
        print("crossover grid (n, poly s, exact s): " + fine.map { "\($0.n): \(sci($0.poly))/\(sci($0.exact!))" }.joined(separator: ", "))
        print("crossover n: measured \(fmt(measured, 0)), cost model \(fmt(predicted, 0)) (κ_exp = \(fmt(model.expCost, 0))), model/measured = \(fmt(predicted / measured, 2))")
    }
}
