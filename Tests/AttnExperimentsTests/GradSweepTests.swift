import AttnCore
import AttnExperiments
import AttnPoly
import Foundation
import Testing

/// `sweep --experiments grad-vs-b,grad-reduction` on tiny grids: the rows carry what the issue asks
/// (degree, rank k₁k₂, exponent, bound, certified error), the bound holds wherever it is measured, and the
/// reduction's error stays under b/m. Reproducibility (threads, resume, shards) is
/// `SweepReproducibilityTests`, whose small configuration includes both experiments.
@Suite struct GradSweepTests {
    static func table(_ grids: [Experiment: ExperimentGrid]) throws -> SweepTable {
        let cfg = SweepConfiguration(experiments: Array(grids.keys), grids: grids, seed: 5)
        let r = try SweepRunner(
            configuration: cfg, backend: AttnPolyBackend(), threads: 2, directory: try temporaryFolder()
        )
        .run(resume: false, version: "test")
        return try SweepTable(csv: r.csvText)
    }

    @Test func gradVsBRowsCarryRankExponentBoundAndError() throws {
        let t = try Self.table([.gradVsB: ExperimentGrid(ns: [128, 512, 1 << 14], b: .relative([0.1, 0.3, 1, 2]))])
        var measured = 0
        for r in t.records {
            #expect(r.experiment == .gradVsB && r.method == "grad-poly-chebyshev")
            #expect(abs(r.c - r.B / log(Double(r.n)).squareRoot()) <= 1e-12 * r.c)
            guard let g = r.degree, let rank = r.rank, let x = r.exponent else {
                #expect(r.exponent == .infinity)
                continue
            }
            let k1 = Double(PolyRank.rank(d: r.d, degree: g)!)
            #expect(rank == k1 * Double(r.d))
            #expect(abs(x - (1 + log(rank * Double(r.d)) / log(Double(r.n)))) <= 1e-12)
            if let e = r.error, let b = r.bound {
                measured += 1
                #expect(e <= b, "n=\(r.n) c=\(r.c): certified error \(e) > bound \(b)")
                #expect(r.n <= SweepConfiguration.maxDenseN && rank <= Double(r.n))
            }
        }
        #expect(measured >= 3)
        // The same c gives (nearly) the same exponent at every n: the curves collapse.
        let s = SweepSummary(table: t)
        #expect(s.gradient != nil && s.gradient!.measured == measured)
        #expect(s.lines.contains { $0.hasPrefix("grad-vs-b: exponent") })
    }

    @Test func reductionErrorStaysUnderBOverM() throws {
        let t = try Self.table([.gradReduction: ExperimentGrid(ns: [24, 48], b: .relative([0.5, 1.5]))])
        let red = SweepSummary(table: t).reduction
        #expect(red.count == 4)
        for r in red {
            #expect(r.m == [1, 2, 4, 8, 16, 32])
            for (e, b) in zip(r.error, r.bound) { #expect(e <= b) }
            #expect(r.error.last! < r.error.first!, "the Riemann sum converges")
        }
        let svg = try SweepPlot.svg(t)
        #expect(svg.contains("grad-reduction"))
    }
}
