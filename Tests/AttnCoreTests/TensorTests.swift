import AttnCore
import PropertyBased
import Testing

/// Tensor's layout, conversions and scans, and the attention shape check.
struct TensorTests {
    @Test func shapeFollowsLogicalRank() {
        let vector = Tensor<Float>(rows: 1, cols: 3, storage: [1, 2, 3], logicalRank: 1)
        #expect(vector.shape == [3] && vector.count == 3)
        let matrix = Tensor<Double>(rows: 2, cols: 3)
        #expect(matrix.shape == [2, 3] && matrix.logicalRank == 2 && matrix.storage == [0, 0, 0, 0, 0, 0])
        let batch = Tensor<Double>(heads: 2, rows: 1, cols: 2, storage: [1, 2, 3, 4])
        #expect(batch.shape == [2, 1, 2] && batch.logicalRank == 3)
        #expect(Tensor<Float>(heads: 0, rows: 4, cols: 4).count == 0)
    }

    /// Element (h, i, j) sits at offset(h, i) + j, and head(h) is that head's block.
    @Test func indexingAndHeadsAreRowMajor() async {
        await propertyCheck(count: 50, input: Gen.int(in: 1...4), Gen.int(in: 1...5), Gen.int(in: 1...6)) { H, n, d in
            let t = Tensor<Double>(heads: H, rows: n, cols: d, storage: (0..<H * n * d).map(Double.init))
            for h in 0..<H {
                let block = t.head(h)
                #expect(block.heads == 1 && block.rows == n && block.cols == d && block.logicalRank == 2)
                for i in 0..<n {
                    for j in 0..<d {
                        #expect(t[h, i, j] == Double(t.offset(head: h, row: i) + j))
                        #expect(block[0, i, j] == t[h, i, j])
                    }
                }
            }
        }
    }

    /// Float → Double is exact, so a round trip returns the same bits (subnormals included).
    @Test func conversionWidensExactly() {
        let xs: [Float] = [
            0, -0.0, 1, -1.5, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
            0x1.fffffep-1, 0x1p-130,
        ]
        let t = Tensor<Float>(rows: 1, cols: xs.count, storage: xs)
        let wide: Tensor<Double> = t.converted()
        #expect(wide.storage == xs.map(Double.init) && wide.shape == t.shape)
        let back: Tensor<Float> = wide.converted()
        #expect(back.storage.map(\.bitPattern) == xs.map(\.bitPattern))
    }

    /// One NaN or ±∞ anywhere (in the 8-lane body or the tail) makes `isFinite` false;
    /// huge finite values whose sum would overflow do not.
    @Test func isFiniteFindsEveryNonFiniteEntry() async {
        await propertyCheck(count: 200, input: Gen.int(in: 1...41), Gen.int(in: 0...40), Gen.int(in: 0...2)) {
            n, at, kind in
            var xs = [Float](repeating: .greatestFiniteMagnitude, count: n)
            #expect(Tensor<Float>(rows: 1, cols: n, storage: xs).isFinite)
            xs[at % n] = [Float.nan, .infinity, -.infinity][kind]
            #expect(!Tensor<Float>(rows: 1, cols: n, storage: xs).isFinite)
            #expect(!Tensor<Double>(rows: 1, cols: n, storage: xs.map(Double.init)).isFinite)
        }
        #expect(Tensor<Double>(rows: 0, cols: 0).isFinite)
    }

    @Test func maxAbsIsTheLargestMagnitude() {
        #expect(Tensor<Double>(rows: 1, cols: 4, storage: [1, -7, 3, 6.5]).maxAbs == 7)
        #expect(Tensor<Float>(rows: 0, cols: 3).maxAbs == 0)
    }

    /// Mismatched heads, d or key rows, empty d or keys, and NaN/Inf are rejected;
    /// `checkFinite: false` skips only the NaN scan.
    @Test func attentionShapesAreChecked() throws {
        func t(_ h: Int, _ n: Int, _ d: Int, _ fill: Double = 1) -> Tensor<Double> {
            Tensor(heads: h, rows: n, cols: d, storage: [Double](repeating: fill, count: h * n * d))
        }
        try validateAttentionShapes(q: t(2, 3, 4), k: t(2, 5, 4), v: t(2, 5, 7))
        for (q, k, v) in [
            (t(1, 3, 4), t(2, 5, 4), t(2, 5, 4)), (t(1, 3, 4), t(1, 5, 3), t(1, 5, 4)),
            (t(1, 3, 4), t(1, 5, 4), t(1, 6, 4)), (t(1, 3, 0), t(1, 5, 0), t(1, 5, 4)),
            (t(1, 3, 4), t(1, 0, 4), t(1, 0, 4)), (t(1, 3, 4), t(1, 5, 4, .nan), t(1, 5, 4)),
            (t(1, 3, 4, .infinity), t(1, 5, 4), t(1, 5, 4)),
        ] {
            #expect(throws: (any Error).self) { try validateAttentionShapes(q: q, k: k, v: v) }
        }
        try validateAttentionShapes(q: t(1, 3, 4), k: t(1, 5, 4, .nan), v: t(1, 5, 4), checkFinite: false)
    }
}
