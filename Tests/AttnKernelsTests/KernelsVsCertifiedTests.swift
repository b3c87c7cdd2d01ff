import AttnCertified
import AttnCore
import AttnKernels
import PropertyBased
import Testing

/// The kernels against the judge: each kernel's output, widened by its
/// documented a-priori bound (`ForwardErrorBound`), must contain the
/// certified enclosure of the exact result. A failure means the kernel or
/// its bound (Proofs/online-softmax-error.md) is wrong.
@Suite struct KernelsVsCertifiedTests {
    struct Case: Sendable, CustomStringConvertible {
        let seed: UInt64, heads: Int, nq: Int, nk: Int, d: Int, dv: Int, bound: Double
        let distribution: InputDistribution, scale: Scale, causal: Bool
        var scoreModel: ScoreModel { causal ? .causal() : .plain }
        var description: String {
            "seed \(seed) heads \(heads) nq \(nq) nk \(nk) d \(d) dv \(dv) B \(bound) \(distribution) \(scale) causal \(causal)"
        }
        func inputs<T: AttnScalar>(_: T.Type) -> (Tensor<T>, Tensor<T>, Tensor<T>) {
            var g = Xoshiro256StarStar(seed: seed)
            return (
                distribution.sample(heads: heads, rows: nq, cols: d, bound: bound, using: &g),
                distribution.sample(heads: heads, rows: nk, cols: d, bound: bound, using: &g),
                distribution.sample(heads: heads, rows: nk, cols: dv, bound: 1, using: &g)
            )
        }
    }

    /// Small problems across magnitudes (B up to 30: scores up to ~10³·d, where
    /// the exp arguments matter), both scale conventions, causal or not.
    static let cases = zip(
        Gen.int(in: 0...Int.max), Gen.int(in: 1...2), Gen.int(in: 1...20), Gen.int(in: 0...20),
        Gen.int(in: 1...8), Gen.int(in: 1...4), Gen.element(of: [0.5, 2, 8, 30]).map { $0! },
        Gen.element(of: InputDistribution.allCases).map { $0! },
        Gen.element(of: [Scale.paper, .standard, .decimal("0.37")]).map { $0! }, Gen.bool()
    )
    .map { seed, heads, nq, extra, d, dv, b, dist, scale, causal in
        Case(
            seed: UInt64(seed), heads: heads, nq: nq, nk: nq + extra, d: d, dv: dv, bound: b,
            distribution: dist, scale: scale, causal: causal)
    }

    /// [out − bound, out + bound] ⊇ [lo, hi] entrywise, for each row's bound.
    static func expectContains<T: AttnScalar>(
        _ out: Tensor<T>, bounds: RowBounds, _ r: CertifiedAttentionOutput,
        _ c: Case, _ what: String
    ) {
        for h in 0..<out.heads {
            for i in 0..<out.rows {
                let b = bounds[head: h, row: i]
                for col in 0..<out.cols {
                    let o = Double(out[h, i, col])
                    // o ± b rounded outward so the widened interval is not narrowed by rounding.
                    let lo = (o - b).nextDown, hi = (o + b).nextUp
                    #expect(
                        lo <= r.lower[h, i, col] && r.upper[h, i, col] <= hi,
                        "\(what) \(c) at (\(h),\(i),\(col)): \(o) ± \(b) vs [\(r.lower[h, i, col]), \(r.upper[h, i, col])]"
                    )
                }
            }
        }
    }

    @Test func referenceKernelWidenedByItsBoundContainsTheEnclosure() async {
        await propertyCheck(count: 40, input: Self.cases) { c in
            let (q, k, v) = c.inputs(Double.self)
            let r = try! CertifiedAttention.compute(
                q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel, precision: 128)
            let out = try! ReferenceAttention.compute(q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel)
            let bounds = ForwardErrorBound.reference(q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel)
            Self.expectContains(out, bounds: bounds, r, c, "reference")
        }
    }

    /// The fast kernel in precision `T`, widened by its bound, contains the enclosure.
    static func checkFast<T: KernelScalar>(_ c: Case, _: T.Type, tiles: TileSizes, precision: Int, _ label: String) {
        let (q, k, v) = c.inputs(T.self)
        let r = try! CertifiedAttention.compute(
            q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel, precision: precision)
        let out = try! FastAttention.compute(q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel, tiles: tiles)
        let bounds = ForwardErrorBound.fastAttention(
            q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel, tiles: tiles, as: T.self)
        Self.expectContains(out, bounds: bounds, r, c, label)
    }

    /// Float32 fast kernel with small tiles, so several key tiles and online rescales occur.
    @Test func fastFloatKernelWidenedByItsBoundContainsTheEnclosure() async {
        await propertyCheck(count: 40, input: Self.cases) { c in
            Self.checkFast(c, Float.self, tiles: TileSizes(queryTile: 4, keyTile: 3), precision: 96, "fast Float")
        }
    }

    @Test func fastDoubleKernelWidenedByItsBoundContainsTheEnclosure() async {
        await propertyCheck(count: 30, input: Self.cases) { c in
            Self.checkFast(c, Double.self, tiles: TileSizes(queryTile: 3, keyTile: 5), precision: 128, "fast Double")
        }
    }

    /// Huge scores (±10⁶): both kernels subtract the row max and stay within
    /// their bounds of the certified truth (here the bounds are large, the
    /// enclosure tiny; the kernels must still not produce NaN or drift).
    @Test func hugeScoresRegression() throws {
        let q = Tensor<Float>(rows: 3, cols: 1, storage: [1000, -1000, 0.5])
        let k = Tensor<Float>(rows: 4, cols: 1, storage: [1000, -1000, 999.5, 0])
        let v = Tensor<Float>(rows: 4, cols: 2, storage: [1, -1, 2, -2, 3, -3, 4, -4])
        let r = try CertifiedAttention.compute(q: q, k: k, v: v, scale: .decimal("1"), precision: 256)
        let c = Case(
            seed: 0, heads: 1, nq: 3, nk: 4, d: 1, dv: 2, bound: 1000, distribution: .uniform,
            scale: .decimal("1"), causal: false)
        let fast = try FastAttention.compute(q: q, k: k, v: v, scale: .decimal("1"))
        Self.expectContains(
            fast, bounds: ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: .decimal("1")), r, c, "fast")
        let ref = try ReferenceAttention.compute(q: q, k: k, v: v, scale: .decimal("1"))
        Self.expectContains(
            ref, bounds: ForwardErrorBound.reference(q: q, k: k, v: v, scale: .decimal("1")), r, c, "ref")
        #expect(r.maxWidth <= 0x1p-240 * 4)
    }
}
