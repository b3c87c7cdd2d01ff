import AttnCore
import AttnKernels
import Testing

/// `ExactBenchmark.Setup`: every range check names its parameter, before anything is timed
/// (speed itself is measured by `attnbound bench exact`, never in a test).
struct ExactBenchmarkTests {
    @Test func setupValidationNamesTheParameter() throws {
        try ExactBenchmark.Setup().validate()
        let cases: [((inout ExactBenchmark.Setup) -> Void, Parameter)] = [
            ({ $0.queryTile = 0 }, .queryTile), ({ $0.sizes = [] }, .n), ({ $0.sizes = [1024, 70_000] }, .n),
            ({ $0.headDims = [257] }, .d), ({ $0.queries = 0 }, .queries), ({ $0.runs = 1001 }, .runs),
        ]
        for (edit, parameter) in cases {
            var s = ExactBenchmark.Setup()
            edit(&s)
            let error = #expect(throws: AttnError.self) { try ExactBenchmark.run(s) }
            #expect(error?.parameter == parameter)
        }
    }

    /// The visible fraction that the rates count: closed forms for causal and windows, and key by key
    /// under an explicit mask (a wrong count misstates every masked rate).
    @Test func visibleFractionCountsTheVisibleScores() throws {
        let n = 64
        #expect(ExactBenchmark.visibleFraction(.none, queries: n, keys: n) == 1)
        #expect(ExactBenchmark.visibleFraction(.causal(), queries: n, keys: n) == Double(n + 1) / Double(2 * n))
        // Window (7, 0) over n keys: rows 0…6 see i + 1 keys, the rest 8.
        let w = AttentionMask(window: try AttentionWindow(left: 7, right: 0))
        #expect(ExactBenchmark.visibleFraction(w, queries: n, keys: n) == Double(28 + 8 * (n - 7)) / Double(n * n))
        // Top-left causal with n_q = 4 < n_k = 16: rows see 1…4 keys.
        #expect(ExactBenchmark.visibleFraction(.causal(.topLeft), queries: 4, keys: 16) == 10.0 / 64)
        // An explicit mask hiding every odd key, under causal: half of each row's causal keys, rounded down.
        let odd = try ScoreGrid(shape: [n], values: (0..<n).map { $0 % 2 == 0 }, parameter: .mask)
        let m = AttentionMask(window: .causal, explicit: odd)
        let expected = (0..<n).reduce(0) { $0 + $1 / 2 + 1 }
        #expect(ExactBenchmark.visibleFraction(m, queries: n, keys: n) == Double(expected) / Double(n * n))
    }
}
