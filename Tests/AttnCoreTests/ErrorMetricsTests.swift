import AttnCore
import PropertyBased
import Testing

/// The error measures against brute force, and their edge cases.
struct ErrorMetricsTests {
    /// The maximum and its location agree with a direct scan; Float inputs are widened
    /// exactly, so the difference of two floats is the exact real difference.
    @Test func maxAndArgMaxAgreeWithAScan() async {
        await propertyCheck(
            count: 100, input: Gen.int(in: 1...3), Gen.int(in: 1...5), Gen.int(in: 1...5),
            Gen.int(in: 0...1_000_000)
        ) { H, n, d, seed in
            var rng = Xoshiro256StarStar(seed: UInt64(seed))
            let a: Tensor<Float> = InputDistribution.uniform.sample(heads: H, rows: n, cols: d, bound: 4, using: &rng)
            let b: Tensor<Double> = InputDistribution.uniform.sample(heads: H, rows: n, cols: d, bound: 4, using: &rng)
            let diffs = zip(a.storage, b.storage).map { abs(Double($0) - $1) }
            let m = diffs.max()!
            #expect(ErrorMetrics.maxAbsDiff(a, b) == m)
            let at = ErrorMetrics.argMaxAbsDiff(a, b)
            #expect(at.error == m)
            #expect(abs(Double(a[at.head, at.row, at.col]) - b[at.head, at.row, at.col]) == m)
            #expect(diffs.firstIndex(of: m) == a.offset(head: at.head, row: at.row) + at.col)
        }
    }

    @Test func edgeCases() {
        #expect(ErrorMetrics.maxAbsDiff(Tensor<Float>(rows: 0, cols: 0), Tensor<Double>(rows: 0, cols: 0)) == 0)
        let a = Tensor<Double>(rows: 1, cols: 3, storage: [1, .nan, 3])
        let b = Tensor<Double>(rows: 1, cols: 3, storage: [1, 2, 100])
        #expect(ErrorMetrics.maxAbsDiff(a, b).isNaN)
        let at = ErrorMetrics.argMaxAbsDiff(a, b)
        #expect(at.error.isNaN && at.col == 1)
        // Exact: 1 + 2⁻²³ in Float against 1 in Double differ by exactly 2⁻²³.
        let f = Tensor<Float>(rows: 1, cols: 1, storage: [1 + .ulpOfOne])
        #expect(ErrorMetrics.maxAbsDiff(f, Tensor<Double>(rows: 1, cols: 1, storage: [1])) == 0x1p-23)
    }

    /// ulps counts units in the last place of the reference rounded to T.
    @Test func ulpsCountsUnitsInTheLastPlace() {
        #expect(ErrorMetrics.ulps(Float(1), reference: 1) == 0)
        #expect(ErrorMetrics.ulps(Float(1).nextUp, reference: 1) == 1)
        #expect(ErrorMetrics.ulps(Float(3).nextDown.nextDown, reference: 3) == 2)
        #expect(ErrorMetrics.ulps(Double(2).nextUp, reference: 2) == 1)
        #expect(ErrorMetrics.ulps(Float.leastNonzeroMagnitude, reference: 0) == 1)
    }
}
