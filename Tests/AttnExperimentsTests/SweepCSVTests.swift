import AttnCore
import AttnExperiments
import AttnPoly
import Foundation
import PropertyBased
import Testing

/// The CSV's layout and the relations its columns must satisfy.
struct SweepCSVTests {
    let result: SweepResult
    let table: SweepTable

    init() throws {
        result = try SweepRunner(
            configuration: smallConfiguration(), backend: AttnPolyBackend(), threads: 2,
            directory: try temporaryFolder()
        ).run(resume: false, version: "test")
        table = try SweepTable(csv: result.csvText)
    }

    @Test func headerAndFieldCounts() throws {
        let lines = result.csvText.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first.map(String.init) == SweepCSV.columns.joined(separator: ","))
        #expect(lines.last == "", "file ends with a line end")
        for line in lines.dropFirst().dropLast() {
            #expect(CSV.parseRow(line).count == SweepCSV.columns.count, "\(line)")
        }
        #expect(
            Set(SweepCSV.columns).isSuperset(of: [
                "experiment", "distribution", "n", "d", "B", "B_over_sqrt_ln_n",
                "method", "degree", "rank", "trial", "seed", "error", "bound",
                // issue 21's names (grad-vs-b's rows carry them; every row does)
                "c", "exponent", "measured_error",
            ]))
        #expect(Array(SweepCSV.columns.prefix(SweepCSV.legacyColumns.count)) == SweepCSV.legacyColumns)
    }

    /// `c` repeats `B_over_sqrt_ln_n` and `measured_error` repeats `error`, as text, in every row.
    @Test func issueColumnsRepeatTheOlderOnes() {
        let index = { (name: String) in SweepCSV.columns.firstIndex(of: name)! }
        for line in result.csvText.split(separator: "\n").dropFirst() {
            let f = CSV.parseRow(line)
            #expect(f[index("c")] == f[index("B_over_sqrt_ln_n")], "\(line)")
            #expect(f[index("measured_error")] == f[index("error")], "\(line)")
        }
        #expect(table.records.contains { $0.experiment == .gradVsB && $0.error != nil })
    }

    /// A CSV in the older layout (no `c`, `measured_error`) still reads, to the same records, and still plots.
    @Test func legacyLayoutStillReads() throws {
        let keep = SweepCSV.legacyColumns.count
        let legacy = result.csvText.split(separator: "\n").map {
            CSV.row(Array(CSV.parseRow($0).prefix(keep)))
        }.joined()
        let old = try SweepTable(csv: legacy)
        #expect(old.header == CSV.row(SweepCSV.legacyColumns))
        #expect(old.records.map(\.point) == table.records.map(\.point))
        #expect(zip(old.records, table.records).allSatisfy { $0.c == $1.c && $0.error == $1.error })
        #expect(try SweepPlot.svg(old) == (try SweepPlot.svg(table)))
    }

    /// The agreement line is the revealed columns computed another way: when the
    /// polynomial method never reveals, it agrees exactly where exact does not reveal.
    @Test func hardInstanceAgreementMatchesRevealedColumns() {
        let lines = SweepSummary(table: table).lines.filter { $0.contains("verdict equals exact") }
        #expect(!lines.isEmpty)
        let hard = table.records.filter { $0.experiment == .hardInstance }
        let exact = hard.filter { $0.method == "exact" }, poly = hard.filter { $0.method != "exact" }
        guard poly.allSatisfy({ $0.revealed == false }) else { return }
        for n in Set(exact.map(\.n)) {
            let cs = Set(exact.filter { $0.n == n }.map(\.c)).sorted()
            let expected = cs.map { c -> String in
                let rows = exact.filter { $0.n == n && $0.c == c }
                return String(format: "%.4g", Double(rows.filter { $0.revealed == false }.count) / Double(rows.count))
            }.joined(separator: " ")
            #expect(
                lines.contains { $0.hasPrefix("hard-instance n=\(n):") && $0.contains("fraction \(expected) (c") },
                "\(lines)")
        }
    }

    @Test func pointsInOrderAndEveryPointPresent() {
        let pts = table.records.map(\.point)
        #expect(pts == pts.sorted())
        #expect(Set(pts) == Set(0..<result.pointsTotal))
    }

    /// B/√ln n · √ln n = B, d = ⌈C·ln n⌉, seeds are SplitMix64.mix(seed, point), ε = 1/n.
    @Test func derivedColumnsAgree() {
        let cfg = smallConfiguration()
        for r in table.records {
            #expect(abs(r.c * log(Double(r.n)).squareRoot() - r.B) <= 1e-12 * r.B)
            #expect(r.d == cfg.d(n: r.n, experiment: r.experiment))
            #expect(abs(r.epsilon - 1 / Double(r.n)) <= 1e-15 / Double(r.n))
        }
        let lines = result.csvText.split(separator: "\n").dropFirst()
        for (r, line) in zip(table.records, lines) {
            #expect(CSV.parseRow(line)[13] == String(SplitMix64.mix(cfg.seed, UInt64(r.point))))
        }
    }

    /// degree-vs-b: rank = C(g+d, d) and exponent = 1 + ln(r·d)/ln n, computed here independently.
    @Test func degreeRowsRankAndExponent() {
        for r in table.records where r.experiment == .degreeVsB {
            guard let g = r.degree, let rank = r.rank, let e = r.exponent else { continue }
            var binom = 1.0
            for t in stride(from: 1, through: g, by: 1) { binom = binom * Double(r.d + t) / Double(t) }
            #expect(abs(rank - binom) <= 1e-9 * binom)
            #expect(abs(e - (1 + log(rank * Double(r.d)) / log(Double(r.n)))) <= 1e-9)
            // degree-vs-b's `bound` is ε_g of the exact-coefficient family polynomial P_g (the degree count is
            // about P_g); the stored Float64 polynomial is certified separately (ExpPolynomial.certifiedRelativeError).
            #expect(r.bound! <= r.epsilon, "the exact-coefficient polynomial's certified bound meets ε")
        }
    }

    /// The measured error of the polynomial method never exceeds its a-priori bound.
    @Test func errorNeverAboveBound() {
        let rows = table.records.filter {
            $0.experiment == .errorVsB || ($0.experiment == .hardInstance && $0.method != "exact")
        }
        #expect(!rows.isEmpty)
        for r in rows { #expect(r.error! <= r.bound!, "n=\(r.n) B=\(r.B): \(r.error!) > \(r.bound!)") }
    }

    /// ε-rank: σ_{r+1}/σ₁ ≤ ε by definition, and 1 ≤ r ≤ n.
    @Test func erankRows() {
        for r in table.records where r.experiment == .erankVsB {
            #expect(r.error! <= r.epsilon)
            #expect(r.rank! >= 1 && r.rank! <= Double(r.n))
        }
    }

    @Test func plotDrawsEveryExperiment() throws {
        let svg = try SweepPlot.svg(table)
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.hasSuffix("</svg>\n"))
        for e in Experiment.allCases { #expect(svg.contains(e.rawValue)) }
        #expect(svg.contains("B / √ln n"))
        #expect(!svg.contains("nan") && !svg.contains("inf\""))
    }

    /// `plot` and `merge` as one call each: the output's extension is checked first, by parameter.
    @Test func plotAndMergeCheckTheirOutput() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-files-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("s.csv").path, svg = dir.appendingPathComponent("s.svg").path
        try AtomicFile.write(result.csvText, to: URL(fileURLWithPath: csv))
        let r = try SweepPlot.write(csv: csv, to: svg)
        #expect(r.text == ["wrote \(svg) (\(table.experiments.map(\.rawValue).joined(separator: ", ")))"])
        #expect(try String(contentsOfFile: svg, encoding: .utf8) == (try SweepPlot.svg(table)))
        #expect((#expect(throws: AttnError.self) { try SweepPlot.write(csv: csv, to: csv) })?.parameter == .output)
        #expect(
            (#expect(throws: AttnError.self) { try SweepMerge.run([csv], into: svg, version: "t") })?.parameter
                == .output)
        let missing = #expect(throws: AttnError.self) { try SweepMerge.run([csv + "x"], into: csv, version: "t") }
        #expect(missing?.message == "\(csv)x: no such file")
    }

    @Test func malformedCSVIsAUsageError() {
        #expect(throws: AttnError.self) { try SweepTable(csv: "") }
        #expect(throws: AttnError.self) { try SweepTable(csv: "a,b\n1,2\n") }
        let cut = String(result.csvText.dropLast(5))
        #expect(throws: AttnError.self) { try SweepTable(csv: cut) }
    }
}

/// Properties of the measurements themselves, on random inputs.
struct SweepMeasurementTests {
    /// The certified degree, hence the exponent, never decreases as B grows (same n).
    @Test func exponentMonotoneInB() async throws {
        await propertyCheck(
            count: 60, input: Gen.int(in: 6...20), Gen.double(in: 0.01...2.5), Gen.double(in: 0.01...2.5)
        ) { k, a, b in
            let n = 1 << k
            let cfg = SweepConfiguration(
                experiments: [.degreeVsB],
                grids: [
                    .degreeVsB: ExperimentGrid(ns: [n], b: .relative([min(a, b), max(a, b)]))
                ])
            let m = SweepMeasurer(configuration: cfg, backend: AttnPolyBackend())
            let pts = cfg.points()
            let e = try pts.map { try m.measure($0)[0].exponent! }
            #expect(e[0] <= e[1])
        }
    }

    /// The hard instance: the planted key is the planted query with exactly
    /// ⌊d/10⌋ signs flipped, and the exact output equals n/(S_i + n).
    @Test func hardInstanceStructure() async throws {
        await propertyCheck(count: 40, input: Gen.int(in: 4...60), Gen.int(in: 10...40), Gen.double(in: 0.1...3)) {
            n, d, beta in
            var rng = Xoshiro256StarStar(seed: UInt64(n * 1000 + d))
            let h = HardInstance(n: n, d: d, beta: beta, rng: &rng)
            var flips = 0
            for c in 0..<d where h.q.storage[h.plantedQuery * d + c] != h.k.storage[h.plantedKey * d + c] { flips += 1 }
            #expect(flips == d / 10)
            for i in [0, h.plantedQuery] {
                var s = 0.0
                for j in 0..<n {
                    var dot = 0.0
                    for c in 0..<d { dot += h.q.storage[i * d + c] * h.k.storage[j * d + c] }
                    s += exp(dot / Double(d))
                }
                let direct = Double(n) / (s + Double(n))
                let row = ExactRows.row(i, q: h.q, k: h.k, v: h.v, scale: 1 / Double(d))[0]
                #expect(abs(row - direct) <= 1e-12 * direct)
            }
        }
    }

    @Test func invalidConfigurationsAreRejected() {
        var cfg = smallConfiguration()
        cfg.grids[.erankVsB]!.ns = [1 << 14]
        #expect(throws: AttnError.self) { try cfg.validate() }
        cfg = smallConfiguration(); cfg.gamma = 0
        #expect(throws: AttnError.self) { try cfg.validate() }
        cfg = smallConfiguration(); cfg.grids[.degreeVsB]!.ns = [2]
        #expect(throws: AttnError.self) { try cfg.validate() }
        #expect(throws: AttnError.self) { try Shard(parsing: "0/3") }
        #expect(throws: AttnError.self) { try Shard(parsing: "4/3") }
        #expect(throws: AttnError.self) { try Shard(parsing: "x") }
    }
}
