import AttnCore
import AttnKernels
import Foundation

/// `bench poly`'s two outputs: the JSON object and the table.
extension PolyBenchmark.Report {
    /// - Parameter loadAverage: `Timing.loadAverage()` at the end of the run (benchmarks record it).
    public func json(_ s: PolyBenchmark.Setup, loadAverage: String) -> JSONValue {
        let rows: [JSONValue] = points.map { p in
            .object([
                ("n", .int(p.n)), ("poly_seconds", .double(p.poly)),
                ("exact_seconds", p.exact.map { .double($0) } ?? .null),
                ("poly_cpu_seconds", .double(p.polyCPU)),
                ("exact_cpu_seconds", p.exactCPU.map { .double($0) } ?? .null),
            ])
        }
        let fine: [JSONValue] = crossoverGrid.map { p in
            .object([("n", .int(p.n)), ("poly_seconds", .double(p.poly)), ("exact_seconds", .double(p.exact!))])
        }
        return .object([
            ("blas", BLASInfo.current.json),
            ("benchmark", "poly"), ("d", .int(s.d)), ("B", .double(s.B)), ("scale", "paper"),
            ("eps", .double(s.epsilon)),
            ("family", .string(s.family.rawValue)), ("degree", .int(degree)), ("rank", .int(rank)),
            ("threads", .int(s.threads)), ("runs", .int(s.runs)), ("seed", 1), ("results", .array(rows)),
            ("crossover_grid", .array(fine)), ("poly_exponent", .double(polyExponent)),
            ("exact_exponent", .double(exactExponent)), ("poly_cpu_exponent", .double(polyCPUExponent)),
            ("load_average", .string(loadAverage)), ("crossover_measured", .double(measuredCrossover)),
            ("crossover_model", .double(modelCrossover)),
            ("crossover_ratio", .double(modelCrossover / measuredCrossover)),
        ])
    }

    public func text(_ s: PolyBenchmark.Setup, loadAverage: String) -> String {
        let (sci, fmt) = (TextFormat.sci, TextFormat.fixed)
        func seconds(_ x: Double?, _ w: Int) -> String {
            x.map { String(format: "%\(w).6f", $0) } ?? String(repeating: " ", count: w - 1) + "—"
        }
        var lines = [
            "bench poly: d = \(s.d), B = \(s.B), scale 1/d (R = \(sci(radius))), ε = \(sci(s.epsilon)), "
                + "family = \(s.family.rawValue), degree g = \(degree), rank r = \(rank), Float32, \(s.threads) threads, "
                + "median of \(s.runs), load average \(loadAverage)",
            "       n      poly s     exact s   exact/poly   poly cpu s  exact cpu s",
        ]
        for p in points {
            let ratio = p.exact.map { String(format: "%12.1f", $0 / p.poly) } ?? "           —"
            lines.append(
                String(format: "%8d %11.6f ", p.n, p.poly) + seconds(p.exact, 11) + " " + ratio
                    + String(format: " %12.6f ", p.polyCPU) + seconds(p.exactCPU, 12))
        }
        lines += [
            "fitted exponent of time vs n: poly \(fmt(polyExponent, 3)) (n = 2^\(s.minLog2)…2^\(s.maxLog2); CPU time: "
                + "\(fmt(polyCPUExponent, 3))), exact \(fmt(exactExponent, 3)) (n ≤ 2^\(s.exactMaxLog2))",
            "crossover grid (n, poly s, exact s): "
                + crossoverGrid.map { "\($0.n): \(sci($0.poly))/\(sci($0.exact!))" }.joined(separator: ", "),
            "crossover n: measured \(fmt(measuredCrossover, 0)), cost model \(fmt(modelCrossover, 0)) "
                + "(κ_exp = \(fmt(model.expCost, 0))), model/measured = \(fmt(modelCrossover / measuredCrossover, 2))",
        ]
        return lines.joined(separator: "\n")
    }
}
