/// Error measures between a candidate and a reference of the same shape.
public enum ErrorMetrics {
    /// max_i |a_i − b_i| computed in Double (exact difference of Float inputs).
    ///
    /// Edge cases: empty tensors give 0; any NaN gives NaN.
    public static func maxAbsDiff<A: AttnScalar, B: AttnScalar>(_ a: Tensor<A>, _ b: Tensor<B>) -> Double {
        precondition(a.count == b.count, "shape mismatch")
        var m = 0.0
        for i in 0..<a.count {
            let d = abs(Double(a.storage[i]) - Double(b.storage[i]))
            if d.isNaN { return .nan }
            m = Swift.max(m, d)
        }
        return m
    }

    /// Index (head, row, col) and value of the largest |a − b|.
    public static func argMaxAbsDiff<A: AttnScalar, B: AttnScalar>(_ a: Tensor<A>, _ b: Tensor<B>) -> (
        head: Int, row: Int, col: Int, error: Double
    ) {
        precondition(a.count == b.count, "shape mismatch")
        var best = (0, 0.0)
        for i in 0..<a.count {
            let d = abs(Double(a.storage[i]) - Double(b.storage[i]))
            if d > best.1 || d.isNaN { best = (i, d) }
        }
        let rc = a.rows * a.cols
        let h = rc == 0 ? 0 : best.0 / rc
        let r = a.cols == 0 ? 0 : (best.0 - h * rc) / a.cols
        return (h, r, a.cols == 0 ? 0 : best.0 % a.cols, best.1)
    }

    /// Distance in units in the last place of `T` at the reference value:
    /// |a − ref| / ulp(ref). Used to report errors the swift-numerics way.
    public static func ulps<T: AttnScalar>(_ a: T, reference ref: Double) -> Double {
        let r = T(ref)
        let u = Double(r.ulp == 0 ? T.leastNonzeroMagnitude : r.ulp)
        return abs(Double(a) - ref) / u
    }
}
