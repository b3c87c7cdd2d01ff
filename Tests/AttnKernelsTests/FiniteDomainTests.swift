import AttnCertified
import AttnCore
import AttnKernels
import AttnTestSupport
import PropertyBased
import Testing

/// Issue 23: every reported bound holds for every finite input. Each example of the issue is one
/// explicit case here (they failed before the fix): the kernel's output, widened by its own bound,
/// must contain the certified enclosure of the exact result; a non-finite output must come with a
/// bound of +∞. Proofs/online-softmax-error.md §1′, §3′, §4; Proofs/scale-rounding.md.
@Suite struct FiniteDomainTests {
    static func tensor<T: AttnScalar>(_ rows: [[Double]], as _: T.Type = T.self) -> Tensor<T> {
        Tensor(rows: rows.count, cols: rows[0].count, storage: rows.flatMap { $0.map { T($0) } })
    }

    /// |out − truth| ≤ bound entrywise (truth certified by GMP/MPFR), or bound = +∞ where out is not finite.
    static func expectWithinBound<T: AttnScalar>(
        _ out: Tensor<T>, _ bounds: RowBounds, q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        scoreModel: ScoreModel = .plain, _ what: String
    ) throws {
        let r = try CertifiedAttention.compute(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, precision: 128)
        for h in 0..<out.heads {
            for i in 0..<out.rows {
                let b = bounds[head: h, row: i]
                for c in 0..<out.cols {
                    let o = Double(out[h, i, c])
                    guard o.isFinite else {
                        #expect(b == .infinity, "\(what) (\(h),\(i),\(c)): output \(o) beside a finite bound \(b)")
                        continue
                    }
                    let err = max(abs(r.upper[h, i, c] - o), abs(o - r.lower[h, i, c]))
                    #expect(err <= b, "\(what) (\(h),\(i),\(c)): error \(err) > bound \(b) (output \(o))")
                }
            }
        }
    }

    /// Finding 1: q = 2⁻¹⁴³ with the paper's scale makes every ŝ·q_c subnormal in Float32 (absolute
    /// rounding up to 2⁻¹⁵⁰), and keys of 3·10³⁸ multiply it: the fused bound was 6× (d = 128) and
    /// 48× (d = 1024) too small. Every compiled copy of the kernel the machine runs.
    /// Second key 0 → −3·10³⁸: the two scores then err in opposite directions (ŝ·q_c = 2⁻¹⁵⁰ is a tie that
    /// rounds to 0, so both are 0 against ±2.7·10⁻⁵) and the error reaches the bound's full absolute term:
    /// halving it (mutation row `score-underflow`) fails here.
    @Test(arguments: [(128, 0.0), (1024, 0.0), (128, -3e38)])
    func prescaledQueryUnderflow(d: Int, firstKey: Double) throws {
        let q = Self.tensor([[Double](repeating: 0x1p-143, count: d)], as: Float.self)
        let k = Self.tensor(
            [[Double](repeating: firstKey, count: d), [Double](repeating: 3e38, count: d)], as: Float.self)
        let v = Self.tensor([[-1], [1]], as: Float.self)
        let bounds = ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: .paper)
        for isa in [KernelISA.baseline, .avx2, .avx512] where isa.resolved == isa {
            let out = try FastAttention.compute(q: q, k: k, v: v, scale: .paper, isa: isa)
            try Self.expectWithinBound(out, bounds, q: q, k: k, v: v, scale: .paper, "fused \(isa) d = \(d)")
        }
    }

    /// Finding 1, all-normal inputs: scale 10⁻³⁰ and q = 10⁻¹⁵ give ŝ·q ≈ 10⁻⁴⁵, subnormal in Float32.
    @Test func prescaledQueryUnderflowFromNormalInputs() throws {
        let d = 128, scale = Scale.decimal("1e-30")
        let q = Self.tensor([[Double](repeating: 1e-15, count: d)], as: Float.self)
        let k = Self.tensor([[Double](repeating: 0, count: d), [Double](repeating: 3e38, count: d)], as: Float.self)
        let v = Self.tensor([[-1], [1]], as: Float.self)
        let out = try FastAttention.compute(q: q, k: k, v: v, scale: scale)
        let bounds = ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: scale)
        try Self.expectWithinBound(out, bounds, q: q, k: k, v: v, scale: scale, "fused, scale 1e-30")
    }

    /// The Float64 analogue: ŝ·q_c at 2⁻¹⁰⁷⁴ and below, keys near 10³⁰⁷.
    @Test func prescaledQueryUnderflowFloat64() throws {
        let d = 16
        let q = Self.tensor([[Double](repeating: 0x1.8p-1071, count: d)], as: Double.self)
        let k = Self.tensor([[Double](repeating: 0, count: d), [Double](repeating: 1e307, count: d)], as: Double.self)
        let v = Self.tensor([[-1], [1]], as: Double.self)
        for kernel in AttentionKernel.allCases {
            let r = try kernel.run(q: q, k: k, v: v, scale: .paper)
            try Self.expectWithinBound(r.output, r.rowBounds, q: q, k: k, v: v, scale: .paper, "\(kernel), Float64")
        }
        let fast = ForwardErrorBound.fast(q: q, k: k, v: v, scale: .paper)
        #expect(fast.allSatisfy { $0.isFinite })
    }

    /// Finding 2: the reference result 2⁻¹⁵⁰ rounds to 0 in Float32, an error of 7·10⁻⁴⁶, against a bound of
    /// 1.2·10⁻⁶⁰ before the fix (gradual underflow of the final rounding).
    @Test func referenceRoundedToFloatUnderflows() throws {
        let q = Self.tensor([[0]], as: Float.self), k = Self.tensor([[0], [0]], as: Float.self)
        let v = Self.tensor([[0x1p-149], [0]], as: Float.self)
        let r = try AttentionKernel.reference.run(q: q, k: k, v: v, scale: .standard)
        try Self.expectWithinBound(r.output, r.rowBounds, q: q, k: k, v: v, scale: .standard, "reference → Float")
        #expect(r.rowBounds[0] >= 0x1p-150)
    }

    /// Finding 4, accumulator overflow: Q = K = 0, V = 3·10³⁸ (Float32): the fused sum of four 3·10³⁸
    /// overflowed to +∞ while the exact output is 3·10³⁸. The fused kernel recomputes the row in Float64;
    /// the accumulator kernels (block-sparse, Lite, db-SP, paged) report +∞.
    @Test func accumulatorOverflow() throws {
        let q = Self.tensor([[0], [0], [0], [0]], as: Float.self), k = q
        let v = Self.tensor([[3e38], [3e38], [3e38], [3e38]], as: Float.self)
        let out = try FastAttention.compute(q: q, k: k, v: v, scale: .standard)
        #expect(out.storage.allSatisfy { $0 == 3e38 })
        let bounds = ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: .standard)
        try Self.expectWithinBound(out, bounds, q: q, k: k, v: v, scale: .standard, "fused, V = 3e38")
        #expect(ForwardErrorBound.fast(q: q, k: k, v: v, scale: .standard).allSatisfy { $0 == .infinity })
        let r64 = try AttentionKernel.fast.run(
            q: q.converted(to: Double.self), k: k.converted(to: Double.self), v: v.converted(to: Double.self),
            scale: .standard)
        #expect(r64.output.storage.allSatisfy { $0 == Double(Float(3e38)) })
    }

    /// Finding 4, a whole row of scores below −FLT_MAX: row 0 became NaN (0/0); the exact output is 7/3.
    @Test func scoresBelowTheFloatRange() throws {
        let q = Self.tensor([[2e19], [1], [1], [1]], as: Float.self)
        let k = Self.tensor([[-2e19], [-2e19], [-3e19], [-2e19]], as: Float.self)
        let v = Self.tensor([[1], [2], [3], [4]], as: Float.self)
        for model in [ScoreModel.plain, .causal()] {
            let out = try FastAttention.compute(q: q, k: k, v: v, scale: .standard, scoreModel: model)
            let bounds = ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: .standard, scoreModel: model)
            try Self.expectWithinBound(
                out, bounds, q: q, k: k, v: v, scale: .standard, scoreModel: model, "fused \(model.mask)")
            #expect(out.storage.allSatisfy { $0.isFinite })
        }
        #expect(ForwardErrorBound.fast(q: q, k: k, v: v, scale: .standard)[0] == .infinity)
    }

    /// Finding 5: a decimal scale below 2⁻¹⁴⁹ rounds to 0 in Float32 (uniform weights): error ≈ 0.05 against
    /// a bound of about 8·10⁻⁶ before the fix. And one between 2⁻¹⁴⁹ and 2⁻¹²⁶ (subnormal, up to 50% off).
    @Test(arguments: ["5e-46", "3e-45", "1e-40"])
    func subnormalScale(text: String) throws {
        let scale = Scale.decimal(text)
        let x = 0.05 / Double(text)!.squareRoot()  // s·q·k = ±0.05
        let q = Self.tensor([[x]], as: Float.self), k = Self.tensor([[x], [-x]], as: Float.self)
        let v = Self.tensor([[1], [-1]], as: Float.self)
        let out = try FastAttention.compute(q: q, k: k, v: v, scale: scale)
        try Self.expectWithinBound(
            out, ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: scale), q: q, k: k, v: v, scale: scale,
            "fused, scale \(text)")
        let fast = ForwardErrorBound.fast(q: q, k: k, v: v, scale: scale)
        try Self.expectWithinBound(out, fast, q: q, k: k, v: v, scale: scale, "accumulator bound, scale \(text)")
    }

    /// The norms of the bound neither overflow nor underflow: Float64 entries near 10²⁰⁰ and 10⁻²⁰⁰.
    @Test func normsAcrossTheDoubleRange() {
        let big = Self.tensor([[1e200, -1e200]], as: Double.self),
            tiny = Self.tensor([[1e-200, 1e-200]], as: Double.self)
        let v = Self.tensor([[1]], as: Double.self)
        // ‖q‖·‖k‖ = 2·10⁴⁰⁰ overflows Double: the scores may too, so the bound is +∞ (Float64 has no wider format).
        #expect(ForwardErrorBound.fastAttention(q: big, k: big, v: v, scale: .standard)[0] == .infinity)
        // 10⁻²⁰⁰ squared underflows, but the norm must not: a bound that is finite and small.
        let b = ForwardErrorBound.reference(q: tiny, k: big, v: v, scale: .standard)[0]
        #expect(b.isFinite && b < 1e-10)
    }

    /// The families of issue 23 (`EdgeCase`, Tests/AttnTestSupport): both kernels, Float32 and Float64, against
    /// GMP/MPFR. Before the fix the prescale, tiny-scale, subnormal-output (reference → Float) and overflow families
    /// each broke a bound.
    @Test func boundsHoldOnTheEdgeFamilies() async {
        await propertyCheck(count: 40, input: EdgeCase.generator()) { c in
            do {
                try Self.check(c, Float.self)
                try Self.check(c, Double.self)
            } catch {
                Issue.record("\(c): \(error)")
            }
        }
    }

    static func check<T: KernelScalar>(_ c: EdgeCase, _: T.Type) throws {
        let (q, k, v) = c.tensors(T.self)
        let scale = c.scale(T.self)
        for kernel in AttentionKernel.allCases {
            let r = try kernel.run(q: q, k: k, v: v, scale: scale)
            try expectWithinBound(r.output, r.rowBounds, q: q, k: k, v: v, scale: scale, "\(kernel) \(T.self) \(c)")
        }
    }
}
