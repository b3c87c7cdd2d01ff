import AttnCore
import AttnExperiments
import AttnPoly
import Foundation
import PropertyBased
import Testing

/// `Regime.analyze` on constructed inputs whose B, R and max score are known in
/// closed form; its degree against `plan`'s (`PolyPlan`) and its exponent against the sweep's.
@Suite struct RegimeTests {
    static func tensor(
        heads: Int = 1, rows: Int, cols: Int, batch: Int = 1,
        _ f: (Int, Int, Int) -> Double
    ) -> Tensor<Double> {
        var t = Tensor<Double>(heads: heads, rows: rows, cols: cols, batch: batch)
        for h in 0..<heads { for i in 0..<rows { for c in 0..<cols { t[h, i, c] = f(h, i, c) } } }
        return t
    }

    static func analyze(
        _ q: Tensor<Double>, _ k: Tensor<Double>, scale: Scale = .standard,
        eps: Regime.Epsilon = .power(1)
    ) throws -> [RegimeHead] {
        try Regime.analyze(q: q, k: k, options: Regime.Options(scale: scale, epsilon: eps))
    }

    static func close(_ a: Double, _ b: Double, _ rel: Double = 1e-13) -> Bool { abs(a - b) <= rel * abs(b) }

    /// All entries equal to B: max‖q‖ = √d·B, so R = s·d·B², and every score is exactly s·d·B².
    /// `plan` (`PolyPlan.make`) takes the same R = s·d·B² from B: the degrees must agree.
    @Test func allEqualEntries() throws {
        for (n, d, B, scale) in [
            (64, 8, 0.75, Scale.standard), (300, 5, 1.3, .paper), (1000, 32, 0.2, .decimal("0.37")),
        ] {
            let q = Self.tensor(rows: n, cols: d) { _, _, _ in B },
                k = Self.tensor(rows: n / 2, cols: d) { _, _, _ in -B }
            let h = try #require(try Self.analyze(q, k, scale: scale).first)
            #expect(h.entryBound == B && h.keys == n / 2 && h.queries == n && h.d == d)
            #expect(Self.close(h.c, B / log(Double(n / 2)).squareRoot()))
            #expect(h.epsilon == 1 / Double(n / 2))
            let s = scale.value(d: d), R = s * Double(d) * B * B
            let a = h.scales[0]
            #expect(a.radius >= R && Self.close(a.radius, R, 1e-13))
            #expect(abs(a.maxAbsScore - R) <= a.maxAbsScoreErrorBound)
            #expect(a.maxAbsScoreErrorBound <= 1e-13 * R)
            let plan = try PolyPlan.make(n: n / 2, d: d, entryBound: B, scale: scale, epsilon: h.epsilon)
            #expect(a.degree == plan.degree && a.rank == plan.rank, "n \(n) d \(d) B \(B) \(scale)")
            #expect(a.polyWins == plan.polyWins && a.crossoverN == plan.crossoverN)
            #expect(
                a.relativeErrorBound == CertifiedExpBound.relativeError(.chebyshev, R: a.radius, degree: plan.degree))
            #expect(
                a.relativeErrorBound <= h.epsilon && Self.close(a.relativeErrorBound, plan.certifiedRelativeError, 1e-9)
            )
            // The paper's scale is added exactly when the user's differs from 1/d.
            #expect(h.scales.count == (scale == .paper ? 1 : 2))
            if h.scales.count == 2 {
                #expect(h.scales[1].scale == .paper && Self.close(h.scales[1].radius, B * B, 1e-13))
            }
        }
    }

    /// One large entry L in Q and M in K in the same column, zeros elsewhere in their rows (other
    /// rows of Q small): B = max(L, M), R = s·L·M and the maximum score is exactly s·L·M.
    @Test func oneLargeEntry() throws {
        let (n, d, L, M) = (40, 6, 9.5, 3.25)
        let q = Self.tensor(rows: n, cols: d) { _, i, c in i == 17 ? (c == 2 ? L : 0) : 0.001 * Double((i + c) % 3) }
        let k = Self.tensor(rows: n, cols: d) { _, j, c in j == 5 && c == 2 ? -M : 0 }
        let h = try #require(try Self.analyze(q, k, scale: .paper).first)
        #expect(h.entryBound == L)
        let a = h.scales[0], s = 1.0 / Double(d)
        #expect(a.radius >= s * L * M && Self.close(a.radius, s * L * M))
        #expect(abs(a.maxAbsScore - s * L * M) <= a.maxAbsScoreErrorBound)
    }

    /// Orthogonal q and k (Q in the first half of the coordinates, K in the second): every score
    /// is 0, while R = s·max‖q‖·max‖k‖ = s·a·b·d/2 in closed form (q_i = a on d/2 coordinates, k_j = b).
    /// The Cauchy–Schwarz radius is far from the scores here, and the degree follows R, as `plan` would.
    @Test func orthogonalRows() throws {
        let (n, d, A, Bk) = (128, 8, 1.5, 2.0)
        let q = Self.tensor(rows: n, cols: d) { _, _, c in c < d / 2 ? A : 0 }
        let k = Self.tensor(rows: n, cols: d) { _, _, c in c >= d / 2 ? Bk : 0 }
        let h = try #require(try Self.analyze(q, k).first)
        let s = 1 / Double(d).squareRoot(), R = s * A * Bk * Double(d / 2)
        let a = h.scales[0]
        #expect(a.maxAbsScore == 0 && a.maxAbsScoreErrorBound < 1e-12)
        #expect(a.radius >= R && Self.close(a.radius, R))
        #expect(a.degree == CertifiedExpBound.certifiedDegree(R: a.radius, epsilon: h.epsilon))
        #expect((a.degree ?? 0) > 0)
    }

    /// The exponent is the sweep's: at the paper's scale with d = ⌈ln n⌉ and all entries B,
    /// R = B², the sweep's degree-vs-b radius at the same (n, B): same degree, same exponent.
    @Test func exponentMatchesSweep() throws {
        for n in [256, 4096] {
            let config = SweepConfiguration(
                experiments: [.degreeVsB],
                grids: [.degreeVsB: ExperimentGrid(ns: [n], b: .relative([0.05, 0.2, 0.5]))])
            let measurer = SweepMeasurer(configuration: config, backend: AttnPolyBackend())
            for p in config.points() {
                let row = try #require(try measurer.measure(p).first)
                let q = Self.tensor(rows: 4, cols: p.d) { _, _, _ in p.B },
                    k = Self.tensor(rows: n, cols: p.d) { _, _, _ in p.B }
                let a = try #require(try Self.analyze(q, k, scale: .paper).first).scales[0]
                #expect(a.degree == row.degree, "n \(n) c \(p.c)")
                #expect(
                    a.exponent == row.exponent, "n \(n) c \(p.c): \(a.exponent) vs \(String(describing: row.exponent))")
            }
        }
    }

    /// Batches and GQA: query head h reads K head h / (heads_q / heads_kv); each head's B is its own.
    @Test func gqaAndHeads() throws {
        let q = Self.tensor(heads: 4, rows: 10, cols: 3) { h, _, _ in Double(h + 1) }
        let k = Self.tensor(heads: 2, rows: 12, cols: 3) { h, _, _ in 0.5 * Double(h + 1) }
        let hs = try Self.analyze(q, k)
        #expect(hs.map(\.kvHead) == [0, 0, 1, 1] && hs.map(\.head) == [0, 1, 2, 3])
        #expect(hs.map(\.entryBound) == [1, 2, 3, 4])
        // Scores are 3·(h+1)·0.5·(kv+1)·s exactly.
        for h in hs {
            let exact = 3 * Double(h.head + 1) * 0.5 * Double(h.kvHead + 1) / 3.0.squareRoot()
            #expect(abs(h.scales[0].maxAbsScore - exact) <= h.scales[0].maxAbsScoreErrorBound + 2 * exact * 0x1p-53)
        }
        // [batch 2, heads 2, n, d] against [batch 2, heads 1, n, d]: the flat heads of the same data.
        let q4 = Self.tensor(heads: 4, rows: 10, cols: 3, batch: 2) { h, _, _ in Double(h + 1) }
        let k4 = Self.tensor(heads: 2, rows: 12, cols: 3, batch: 2) { h, _, _ in 0.5 * Double(h + 1) }
        let b = try Self.analyze(q4, k4)
        #expect(b.map(\.batch) == [0, 0, 1, 1] && b.map(\.head) == [0, 1, 0, 1] && b.map(\.kvHead) == [0, 0, 0, 0])
        #expect(b.map(\.entryBound) == [1, 2, 3, 4])
        #expect(b[3].scales[0].maxAbsScore == hs[3].scales[0].maxAbsScore)
        // A batch mismatch is a usage error on K.
        #expect(throws: AttnError.self) { try Self.analyze(q4, k) }
    }

    /// Bad input: typed errors naming the parameter, never a crash.
    @Test func rejectsBadInput() {
        let q = Self.tensor(rows: 4, cols: 3) { _, _, _ in 1 }
        func kind(_ body: () throws -> Void) -> AttnError.Kind? {
            do { try body(); return nil } catch let e as AttnError { return e.kind } catch { return nil }
        }
        func parameter(_ body: () throws -> Void) -> Parameter? {
            do { try body(); return nil } catch let e as AttnError { return e.parameter } catch { return nil }
        }
        #expect(parameter { _ = try Self.analyze(q, Self.tensor(rows: 4, cols: 2) { _, _, _ in 1 }) } == .k)
        #expect(parameter { _ = try Self.analyze(Self.tensor(rows: 4, cols: 3) { _, _, _ in .infinity }, q) } == .q)
        #expect(parameter { _ = try Self.analyze(q, q, eps: .fixed(2)) } == .epsilon)
        #expect(parameter { _ = try Self.analyze(q, q, eps: .power(9)) } == .epsilonPower)
        #expect(kind { _ = try Self.analyze(q, Self.tensor(rows: 4, cols: 2) { _, _, _ in 1 }) } == .usage)
        #expect(
            kind {
                _ = try Self.analyze(
                    Self.tensor(heads: 3, rows: 4, cols: 3) { _, _, _ in 1 },
                    Self.tensor(heads: 2, rows: 4, cols: 3) { _, _, _ in 1 })
            } == .usage)
        #expect(kind { _ = try Self.analyze(q, Self.tensor(rows: 1, cols: 3) { _, _, _ in 1 }) } == .usage)
        #expect(
            kind { _ = try Self.analyze(q, Self.tensor(rows: 4, cols: 3) { _, i, _ in i == 2 ? .nan : 1 }) } == .usage)
        #expect(kind { _ = try Self.analyze(q, q, eps: .fixed(0)) } == .usage)
        #expect(kind { _ = try Self.analyze(q, q, eps: .fixed(1.5)) } == .usage)
        #expect(kind { _ = try Self.analyze(q, q, eps: .power(-1)) } == .usage)
        // Scores beyond the Double range: infeasible, not inf in the table.
        let huge = Self.tensor(rows: 4, cols: 3) { _, _, _ in 1e300 }
        #expect(kind { _ = try Self.analyze(huge, huge) } == .infeasible)
        // Subnormal entries: bounded, finite numbers.
        let tiny = Self.tensor(rows: 4, cols: 3) { _, _, _ in 0x1p-1070 }
        #expect((try? Self.analyze(tiny, tiny))?.first?.scales[0].degree == 0)
    }

    /// Summary: min / median / max over heads (median of an even count is the mean of the middle two).
    @Test func summaryOverHeads() throws {
        let q = Self.tensor(heads: 4, rows: 16, cols: 4) { h, _, _ in [0.1, 0.4, 0.2, 0.8][h] }
        let hs = try Self.analyze(q, q, scale: .paper)
        let report = RegimeReport(heads: hs, options: Regime.Options(scale: .paper))
        let s = try #require(report.summaries.first)
        #expect(report.summaries.count == 1)
        let root = log(16.0).squareRoot()
        #expect(
            Self.close(s.c.min, 0.1 / root) && Self.close(s.c.median, 0.3 / root) && Self.close(s.c.max, 0.8 / root))
        let degrees = hs.map { Double($0.scales[0].degree!) }.sorted()
        #expect(s.degree.median == (degrees[1] + degrees[2]) / 2 && s.degree.max == degrees[3])
        #expect(report.csv.split(separator: "\n").count == 5)
        #expect(report.summaryLines.count == 1 && report.summaryLines[0].hasPrefix("4 heads at scale paper"))
    }

    /// ε from a fixed value or a power of n, never both; `Regime.run` reads the files and its table is
    /// the report's CSV, its sidecar extras the inputs and the summary.
    @Test func epsilonChoiceAndOneCallRun() throws {
        #expect(try Regime.Epsilon(fixed: 1e-3, power: nil) == .fixed(1e-3))
        #expect(try Regime.Epsilon(fixed: nil, power: 2) == .power(2))
        #expect(try Regime.Epsilon(fixed: nil, power: nil) == .power(1))
        #expect((#expect(throws: AttnError.self) { try Regime.Epsilon(fixed: 1e-3, power: 2) })?.parameter == .epsilon)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("regime-run-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let q = Self.tensor(heads: 2, rows: 16, cols: 4) { h, i, c in Double(h + i - c) / 20 }
        let path = dir.appendingPathComponent("q.npy").path
        try Npy.write(q, to: path)
        let options = Regime.Options(scale: .paper)
        let r = try Regime.run(q: path, k: path, options: options)
        let report = RegimeReport(heads: try Self.analyze(q, q, scale: .paper), options: options)
        #expect(r.table?.csv == report.csv && r.command == "regime" && r.failure == nil)
        #expect(r.text == [report.table] && r.json == report.json)
        #expect(r.sidecarExtra.map(\.0) == ["inputs", "summary"])
        #expect(throws: AttnError.self) {
            try Regime.run(q: path, k: path, options: Regime.Options(epsilon: .fixed(2)))
        }
    }
}
