import AttnCore

/// One certified conformance case: inputs chosen to break careless
/// implementations, with a one-line statement of what it tests.
public struct ConformanceCase: Sendable {
    public let name: String
    public let description: String
    /// Inputs (their values are exactly representable in `dtype`).
    public let q: Tensor<Double>
    public let k: Tensor<Double>
    public let v: Tensor<Double>
    /// The dtype the inputs are written in.
    public let dtype: Npy.DType
    public let scale: Scale
    /// What attention computes in this case.
    public let scoreModel: ScoreModel
}

/// The documented set written by `attnbound vectors` (small and adversarial).
public enum ConformanceCases {
    /// Every case, deterministic for a given seed (random parts come from
    /// `Xoshiro256StarStar(seed: SplitMix64.mix(seed, case index))`).
    public static func all(seed: UInt64) -> [ConformanceCase] {
        var index: UInt64 = 0
        func rng() -> Xoshiro256StarStar { index += 1; return Xoshiro256StarStar(seed: SplitMix64.mix(seed, index)) }
        func t(_ rows: Int, _ cols: Int, _ values: [Double], heads: Int = 1) -> Tensor<Double> {
            Tensor(heads: heads, rows: rows, cols: cols, storage: values)
        }
        func uniform(
            _ rows: Int, _ cols: Int, _ g: inout Xoshiro256StarStar, bound: Double = 1,
            heads: Int = 1
        ) -> Tensor<Double> {
            let f: Tensor<Float> = InputDistribution.uniform.sample(
                heads: heads, rows: rows, cols: cols,
                bound: bound, using: &g)
            return f.converted(to: Double.self)
        }
        var cases: [ConformanceCase] = []
        func add(
            _ name: String, _ description: String, _ q: Tensor<Double>, _ k: Tensor<Double>,
            _ v: Tensor<Double>, scale: Scale = .standard, scoreModel: ScoreModel = .plain, dtype: Npy.DType = .float32
        ) {
            cases.append(
                ConformanceCase(
                    name: name, description: description, q: q, k: k, v: v, dtype: dtype,
                    scale: scale, scoreModel: scoreModel))
        }

        var g = rng()
        let qBase = uniform(8, 4, &g), kBase = uniform(8, 4, &g), vBase = uniform(8, 3, &g)
        add(
            "scale_paper", "Uniform [−1, 1] float32 inputs, n = 8, d = 4, s = 1/d (paper, rational).",
            qBase, kBase, vBase, scale: .paper)
        add(
            "scale_standard", "The same inputs with s = 1/√d; d = 4 makes s = 1/2 exactly.",
            qBase, kBase, vBase, scale: .standard)
        g = rng()
        add(
            "scale_standard_irrational", "n = 16, d = 5: s = 1/√5 is irrational, enclosed at the working precision.",
            uniform(16, 5, &g), uniform(16, 5, &g), uniform(16, 4, &g), scale: .standard)
        g = rng()
        add(
            "scale_decimal", "s = 0.37 read as the exact decimal 37/100, not the nearest double.",
            uniform(6, 3, &g), uniform(6, 3, &g), uniform(6, 2, &g), scale: .decimal("0.37"))

        // Near-ties: two keys whose scores differ by one float32 ulp of the key.
        let eps = Double(Float.ulpOfOne)
        add(
            "near_tie", "Scores 1 and 1 + 2⁻²³ (d = 1, s = 1): weights within 2⁻²⁴ of 1/2 each.",
            t(1, 1, [1]), t(2, 1, [1, 1 + eps]), t(2, 2, [1, -1, 3, 0.5]), scale: .decimal("1"))

        add(
            "dominant_key", "One key scores 40 above the rest: the others weigh e⁻⁴⁰ ≈ 4e−18.",
            t(2, 2, [1, 0, 0, 1]), t(4, 2, [40, 0, 0, 0, 0, 40, 1, 1]),
            t(4, 2, [1, 2, 3, 4, 5, 6, 7, 8]), scale: .decimal("1"))

        add(
            "huge_scores",
            "Scores ±10⁶ (q, k = ±1000, d = 1): far beyond Float64's exp range; max-subtraction is exact.",
            t(3, 1, [1000, -1000, 0.5]), t(4, 1, [1000, -1000, 999.5, 0]),
            t(4, 2, [1, -1, 2, -2, 3, -3, 4, -4]), scale: .decimal("1"))

        let tiny = Double(Float.leastNonzeroMagnitude), sub = Double(Float.leastNormalMagnitude) / 4
        add(
            "subnormal_inputs", "Float32 subnormals (2⁻¹⁴⁹, 2⁻¹²⁸) in Q, K and V next to normal numbers.",
            t(2, 2, [tiny, 1, sub, -tiny]), t(3, 2, [1, tiny, -sub, 2, tiny, tiny]),
            t(3, 2, [tiny, 1, -sub, sub, 0.5, tiny]), scale: .paper)

        add(
            "cancellation_in_v", "Equal weights over V = ±10⁷ that cancel to ~0.1: relative error in O is fragile.",
            t(1, 2, [0, 0]), t(4, 2, [1, 2, 3, 4, 5, 6, 7, 8]),
            t(4, 1, [1e7, -1e7, 0.25, 0.125]), scale: .standard)

        g = rng()
        add(
            "single_key", "n_k = 1: every output row is exactly v₁.",
            uniform(3, 4, &g), uniform(1, 4, &g), uniform(1, 3, &g), scale: .standard)

        g = rng()
        add(
            "head_dim_1", "d = 1 (scores are products of two numbers), n = 16.",
            uniform(16, 1, &g, bound: 4), uniform(16, 1, &g, bound: 4), uniform(16, 2, &g), scale: .standard)

        g = rng()
        add(
            "equal_scores", "Q = 0: all scores equal, so every row is exactly the mean of V.",
            t(2, 3, [0, 0, 0, 0, 0, 0]), uniform(8, 3, &g), uniform(8, 2, &g), scale: .standard)

        g = rng()
        add(
            "causal", "Causal mask, bottom-right aligned: n_q = 6, n_k = 8, row i sees keys j ≤ i + 2.",
            uniform(6, 4, &g), uniform(8, 4, &g), uniform(8, 3, &g), scale: .standard, scoreModel: .causal())

        // The score model (issue 20): alignment, empty rows, windows, explicit masks and every term.
        g = rng()
        add(
            "causal_top_left", "PyTorch's is_causal: top-left aligned, n_q = 4 < n_k = 8, row i sees keys j ≤ i.",
            uniform(4, 4, &g), uniform(8, 4, &g), uniform(8, 3, &g), scoreModel: .causal(.topLeft))
        g = rng()
        add(
            "causal_empty_rows",
            "Bottom-right causal with n_q = 8 > n_k = 5: rows 0–2 see no key (output 0, LSE −∞ by definition).",
            uniform(8, 4, &g), uniform(5, 4, &g), uniform(5, 3, &g), scoreModel: .causal())
        g = rng()
        add(
            "window_edges", "Sliding window (2, 1) over n = 8: rows at both ends are clipped by the key range.",
            uniform(8, 4, &g), uniform(8, 4, &g), uniform(8, 3, &g),
            scoreModel: ScoreModel(mask: AttentionMask(window: try! AttentionWindow(left: 2, right: 1))))
        g = rng()
        let maskValues = (0..<48).map { $0 / 8 == 2 ? false : (($0 * 7 + 3) % 5) != 0 }  // row 2 fully masked
        add(
            "explicit_mask", "An explicit [6, 8] boolean mask (true = visible) with row 2 fully masked.",
            uniform(6, 4, &g), uniform(8, 4, &g), uniform(8, 3, &g),
            scoreModel: ScoreModel(
                mask: AttentionMask(explicit: try! ScoreGrid(shape: [6, 8], values: maskValues, parameter: .mask))))
        g = rng()
        add(
            "softcap_huge_scores",
            "Scores of ±10⁴ and beyond under softcap c = 30 (Gemma 2): every score saturates near ±c.",
            uniform(6, 4, &g, bound: 100), uniform(8, 4, &g, bound: 200), uniform(8, 3, &g),
            scoreModel: try! ScoreModel(softcap: 30))
        g = rng()
        add(
            "alibi_steep", "ALiBi with slopes 8 and 1/2 (two heads), bottom-right causal: far keys vanish on head 0.",
            uniform(6, 4, &g, heads: 2), uniform(8, 4, &g, heads: 2), uniform(8, 3, &g, heads: 2),
            scoreModel: try! ScoreModel(
                mask: .causal(), alibiSlopes: try! .perHead([8, 0.5], parameter: .alibi)))
        g = rng()
        add(
            "sinks_dominate", "A sink logit σ = 20 dwarfs scores in [−1, 1]: outputs ≈ 0, LSE ≈ σ; head 1 has σ = −5.",
            uniform(6, 4, &g, heads: 2), uniform(8, 4, &g, heads: 2), uniform(8, 3, &g, heads: 2),
            scoreModel: try! ScoreModel(sinks: try! .perHead([20, -5], parameter: .sinks)))
        g = rng()
        let biasValues = (0..<48).map { _ in Double(Float(g.uniform(-4, 4))) }
        add(
            "bias_and_softcap", "An additive [6, 8] bias applied after softcap c = 2, top-left causal window (3, 0).",
            uniform(6, 4, &g, bound: 3), uniform(8, 4, &g, bound: 3), uniform(8, 3, &g),
            scoreModel: try! ScoreModel(
                mask: AttentionMask(alignment: .topLeft, window: try! AttentionWindow(left: 3, right: 0)), softcap: 2,
                bias: try! ScoreGrid(shape: [6, 8], values: biasValues, parameter: .bias)))

        g = rng()
        add(
            "multi_head_float64", "Three heads, float64 inputs in [−3, 3], n = 5, d = 2.",
            uniform(5, 2, &g, bound: 3, heads: 3).mapStorage { $0 + 1e-12 },
            uniform(5, 2, &g, bound: 3, heads: 3), uniform(5, 2, &g, heads: 3),
            scale: .standard, dtype: .float64)
        return cases
    }
}

extension ConformanceCases {
    /// The `custom` case: a kernel author's own score model, on uniform [−1, 1] float32 inputs
    /// (Q, K of head dimension d, V of d_v = d) drawn from `seed`.
    ///
    /// - Parameters:
    ///   - shape: `[heads, n_q, n_k, d]` or `[batch, heads, n_q, n_k, d]`; by default batch and heads are
    ///     the largest of the model's grids (mask, bias, slopes, sinks), n_q and n_k those of an explicit
    ///     mask or bias (8 where they broadcast), d = 4.
    /// - Returns: nil for the plain model without a shape (the documented set alone).
    /// - Throws: `AttnError.usage(.caseShape, …)` for a shape of another length or out of range
    ///   (batch·heads ≤ 64, n_q and n_k ≤ 1024, d ≤ 256); the model's parameter when its grids do not
    ///   broadcast to the shape.
    public static func custom(_ model: ScoreModel, shape: [Int]?, seed: UInt64) throws -> ConformanceCase? {
        if model == .plain && shape == nil { return nil }
        let grids = [
            model.mask.explicit?.axes, model.bias?.axes, model.alibiSlopes?.axes, model.sinks?.axes,
        ].compactMap { $0 }
        func axis(_ a: Int, _ fallback: Int) -> Int {
            let m = grids.map { $0[a] }.max() ?? 1
            return m > 1 ? m : fallback
        }
        let given = shape.map { $0.count == 4 ? [1] + $0 : $0 }
        let dims = given ?? [axis(0, 1), axis(1, 1), axis(2, 8), axis(3, 8), 4]
        try Parameter.caseShape.require(dims.count == 5, "need heads,n_q,n_k,d or batch,heads,n_q,n_k,d")
        let (b, h, nq, nk, d) = (dims[0], dims[1], dims[2], dims[3], dims[4])
        try Parameter.caseShape.require(
            dims.allSatisfy { $0 >= 1 } && b * h <= 64 && nq <= 1024 && nk <= 1024 && d <= 256,
            "\(dims.map(String.init).joined(separator: ",")): need every size ≥ 1, batch·heads ≤ 64, "
                + "n_q and n_k ≤ 1024, d ≤ 256")
        try model.validate(batch: b, heads: h, queries: nq, keys: nk)
        var g = Xoshiro256StarStar(seed: SplitMix64.mix(seed, 0xC057))
        func draw(_ rows: Int) -> Tensor<Double> {
            let f: Tensor<Float> = InputDistribution.uniform.sample(
                heads: b * h, rows: rows, cols: d, bound: 1, using: &g)
            let t = f.converted(to: Double.self)
            return b == 1
                ? t
                : Tensor(
                    heads: b * h, rows: rows, cols: d, storage: t.storage, logicalRank: 4, batch: b,
                    headsPerBatch: h)
        }
        let (q, k, v) = (draw(nq), draw(nk), draw(nk))
        return ConformanceCase(
            name: "custom",
            description: "The score model given to vectors, on uniform [−1, 1] float32 inputs: "
                + "batch \(b), heads \(h), n_q = \(nq), n_k = \(nk), d = \(d).",
            q: q, k: k, v: v, dtype: .float32, scale: .standard, scoreModel: model)
    }
}

extension Tensor {
    func mapStorage(_ f: (Scalar) -> Scalar) -> Tensor {
        Tensor(heads: heads, rows: rows, cols: cols, storage: storage.map(f), logicalRank: logicalRank)
    }
}
