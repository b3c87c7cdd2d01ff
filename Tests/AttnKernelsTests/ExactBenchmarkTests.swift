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
}
