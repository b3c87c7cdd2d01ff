import AttnCore
import AttnPoly
import Foundation
import Testing

/// The fits `bench poly` reports, on made-up timings (the timing itself is
/// measured only in the benchmark, never in a test).
@Suite struct PolyBenchmarkTests {
    @Test func slopeRecoversThePower() {
        let pts = [256.0, 512, 1024, 4096].map { ($0, 3e-9 * $0 * $0) }
        #expect(abs(PolyBenchmark.slope(pts) - 2) < 1e-12)
        #expect(PolyBenchmark.slope([(1, 1)]).isNaN)
    }

    @Test func crossoverInterpolatesAfterTheLastLoss() {
        func p(_ n: Int, _ poly: Double, _ exact: Double) -> PolyBenchmark.Point {
            PolyBenchmark.Point(n: n, poly: poly, exact: exact, polyCPU: poly, exactCPU: exact)
        }
        // exact/poly = 1/2 at n = 100, 2 at n = 400: log-ratio 0 halfway, at n = 200.
        let x = PolyBenchmark.crossover([p(50, 1, 0.1), p(100, 2, 1), p(400, 1, 2)])
        #expect(abs(x - 200) < 1e-9)
        // An early noisy win before a later loss does not count.
        #expect(abs(PolyBenchmark.crossover([p(10, 1, 2), p(100, 2, 1), p(400, 1, 2)]) - 200) < 1e-9)
        #expect(PolyBenchmark.crossover([p(16, 1, 2)]) == 16)
        #expect(PolyBenchmark.crossover([p(16, 2, 1)]).isNaN)
    }

    /// Every range check of `bench poly` names its parameter; the defaults pass.
    @Test func setupValidationNamesTheParameter() throws {
        try PolyBenchmark.Setup().validate()
        let cases: [((inout PolyBenchmark.Setup) -> Void, Parameter)] = [
            ({ $0.minLog2 = 3 }, .minLog2), ({ $0.maxLog2 = 9 }, .maxLog2), ({ $0.maxLog2 = 23 }, .maxLog2),
            ({ $0.exactMaxLog2 = 18 }, .exactMaxLog2), ({ $0.d = 17 }, .d), ({ $0.B = 0 }, .B),
            ({ $0.epsilon = 1 }, .epsilon), ({ $0.runs = 0 }, .runs),
        ]
        for (edit, parameter) in cases {
            var s = PolyBenchmark.Setup()
            edit(&s)
            let error = #expect(throws: AttnError.self) { try PolyBenchmark.report(s) }
            #expect(error?.parameter == parameter)
        }
    }
}
