import AttnCertified
import AttnCore
import AttnExperiments
import Testing

/// `VerifyBenchmark.fastKernel` checks its sizes by parameter before it draws or times anything
/// (the timing itself is `attnbound bench verify`'s, never a test's).
struct VerifyBenchmarkTests {
    @Test func sizesAreCheckedByParameter() {
        for (n, d, heads, runs, parameter) in [
            (0, 8, 1, 1, Parameter.n), (70_000, 8, 1, 1, .n), (16, 0, 1, 1, .d), (16, 1025, 1, 1, .d),
            (16, 8, 0, 1, .heads), (16, 8, 257, 1, .heads), (16, 8, 1, 0, .runs),
        ] {
            let error = #expect(throws: AttnError.self) {
                try VerifyBenchmark.fastKernel(n: n, d: d, heads: heads, runs: runs)
            }
            #expect(error?.parameter == parameter && error?.kind == .usage)
        }
    }
}
