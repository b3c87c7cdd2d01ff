import AttnCertified
import AttnCore
import AttnKernels
import AttnTestSupport
import Foundation
import PropertyBased
import Testing

/// The backward kernels: the reference against finite differences of the forward reference, and the
/// fused kernel against the reference within `BackwardErrorBound.fused`.
@Suite("Backward pass: reference, fused kernel and its bound")
struct BackwardTests {
    /// An upstream gradient for `c`: uniform in [−1, 1], seeded from the case.
    static func upstream<T: AttnScalar>(_ c: AdversarialCase, _: T.Type) -> Tensor<T> {
        var rng = Xoshiro256StarStar(seed: c.seed ^ 0x9e37_79b9)
        return InputDistribution.uniform.sample(heads: c.heads, rows: c.nq, cols: c.dv, bound: 1, using: &rng)
    }

    /// max over entries of |fused − reference| − bound (≤ 0 when the bound holds), and the worst ratio.
    static func check<T: KernelScalar>(_ c: AdversarialCase, _: T.Type, slack: Double = 0) throws -> Double {
        let (q, k, v) = c.tensors(T.self)
        let problem = try AttentionTensors(q: q, k: k, v: v)
        let g = upstream(c, T.self)
        let fused = try FusedBackward.compute(problem, dO: g, scale: c.scale, scoreModel: c.scoreModel)
        let ref = try ReferenceBackward.compute(problem, dO: g, scale: c.scale, scoreModel: c.scoreModel)
        let b = BackwardErrorBound.fused(problem, dO: g, scale: c.scale, scoreModel: c.scoreModel, as: T.self)
        var worst = 0.0
        for (name, x, y, rb) in [
            ("dq", fused.dq, ref.dq, b.dq), ("dk", fused.dk, ref.dk, b.dk), ("dv", fused.dv, ref.dv, b.dv),
        ] {
            for h in 0..<x.heads {
                for i in 0..<x.rows {
                    for col in 0..<x.cols {
                        let e = abs(Double(x[h, i, col]) - y[h, i, col])
                        let allowed = rb[head: h, row: i] + slack * max(1, abs(y[h, i, col]))
                        #expect(e <= allowed, "\(c) \(name)[\(h),\(i),\(col)]: error \(e) > bound \(allowed)")
                        if allowed > 0 { worst = max(worst, e / allowed) }
                    }
                }
            }
        }
        return worst
    }

    @Test("Float32 fused gradients are within the bound of the Float64 reference (adversarial regimes)")
    func float32WithinBound() async {
        // The reference's own error (≈ n·2⁻⁵³ relative) is far below the Float32 bound; the slack covers it.
        await propertyCheck(count: 60, input: AdversarialCase.generator(maxN: 24, maxD: 8)) { c in
            _ = try! Self.check(c, Float.self, slack: 1e-12)
        }
    }

    @Test("Float64 fused gradients agree with the Float64 reference")
    func float64Agrees() async {
        await propertyCheck(
            count: 40, input: AdversarialCase.generator(regimes: [.uniform, .nearTies], maxN: 24, maxD: 8)
        ) { c in
            _ = try! Self.check(c, Double.self, slack: 1e-11)
        }
    }

    /// |fused − truth| ≤ bound with the truth enclosed by the MPFR engine (no slack: rigorous).
    static func checkCertified<T: KernelScalar>(_ c: AdversarialCase, _: T.Type) throws {
        let (q, k, v) = c.tensors(T.self)
        try checkCertified(q, k, v, upstream(c, T.self), scale: c.scale, model: c.scoreModel, label: "\(c)")
    }

    @discardableResult
    static func checkCertified<T: KernelScalar>(
        _ q: Tensor<T>, _ k: Tensor<T>, _ v: Tensor<T>, _ g: Tensor<T>, scale: Scale, model: ScoreModel, label: String
    ) throws -> AttentionGradients<T> {
        let problem = try AttentionTensors(q: q, k: k, v: v)
        let fused = try FusedBackward.compute(problem, dO: g, scale: scale, scoreModel: model)
        let b = BackwardErrorBound.fused(problem, dO: g, scale: scale, scoreModel: model, as: T.self)
        let (qd, kd, vd, gd) = (
            q.converted(to: Double.self), k.converted(to: Double.self), v.converted(to: Double.self),
            g.converted(to: Double.self)
        )
        func rows(_ t: Tensor<T>) -> [MPFRGradientEngine.Row] {
            (0..<t.heads).flatMap { h in (0..<t.rows).map { MPFRGradientEngine.Row(head: h, row: $0) } }
        }
        let shape = try AttentionShape(q: qd, k: kd, v: vd)
        let truth = try MPFRGradientEngine.enclose(
            q: qd, k: kd, v: vd, dO: gd, shape: shape, scale: scale, mask: GradientMask(model, shape),
            precision: 128, rows: [.dq: rows(q), .dk: rows(k), .dv: rows(v)])
        for (name, x, rb) in [(GradientName.dq, fused.dq, b.dq), (.dk, fused.dk, b.dk), (.dv, fused.dv, b.dv)] {
            for (r, e) in zip(rows(x), truth[name]!) {
                for col in 0..<x.cols {
                    // The least |y − t| over the enclosure [lo, hi] ∋ t: the bound fails only if even that exceeds it.
                    let y = Double(x[r.head, r.row, col])
                    let err = max(e.lo[col] - y, y - e.hi[col], 0)
                    #expect(
                        err <= rb[head: r.head, row: r.row],
                        "\(label) \(name)[\(r.head),\(r.row),\(col)]: \(err) > \(rb[head: r.head, row: r.row])")
                }
            }
        }
        return fused
    }

    @Test("masks: sliding window, bottom-right causal with empty rows, top-left causal, explicit mask")
    func masks() throws {
        let (q, k, v) = randomQKV(heads: 2, nq: 12, nk: 7, d: 5, dv: 3, bound: 2, seed: 21, as: Float.self)
        var rng = Xoshiro256StarStar(seed: 22)
        let g: Tensor<Float> = InputDistribution.uniform.sample(heads: 2, rows: 12, cols: 3, bound: 1, using: &rng)
        let hidden = (0..<2 * 12 * 7).map { $0 % 5 != 0 }
        let models: [ScoreModel] = [
            ScoreModel(mask: AttentionMask(alignment: .bottomRight, window: try AttentionWindow(left: 2, right: 1))),
            .causal(.bottomRight), .causal(.topLeft),
            ScoreModel(
                mask: AttentionMask(explicit: try ScoreGrid(shape: [2, 12, 7], values: hidden, parameter: .mask))),
        ]
        for model in models {
            let grads = try Self.checkCertified(q, k, v, g, scale: .standard, model: model, label: "\(model.mask)")
            // Bottom-right causal with n_q = 12 > n_k = 7: rows 0…4 see no key and get zero gradients.
            if model == .causal(.bottomRight) {
                for h in 0..<2 { for i in 0..<5 { for c in 0..<5 { #expect(grads.dq[h, i, c] == 0) } } }
            }
        }
        let problem = try AttentionTensors(q: q, k: k, v: v)
        #expect(throws: AttnError.self) {
            _ = try FusedBackward.compute(problem, dO: g, scale: .standard, scoreModel: ScoreModel(softcap: 30))
        }
    }

    @Test("fused gradients are within the bound of the certified (MPFR) truth, Float32 and Float64")
    func fusedWithinBoundOfCertified() async {
        await propertyCheck(count: 12, input: AdversarialCase.generator(maxN: 16, maxD: 6)) { c in
            try! Self.checkCertified(c, Float.self)
            try! Self.checkCertified(c, Double.self)
        }
    }

    @Test("the reference is the derivative: central differences of Σ dO∘O", arguments: [false, true])
    func referenceMatchesFiniteDifferences(causal: Bool) throws {
        let (q, k, v) = randomQKV(heads: 1, nq: 3, nk: 4, d: 3, dv: 2, bound: 1.5, seed: 7, as: Double.self)
        let c = AdversarialCase(regime: .uniform, nq: 3, nk: 4, d: 3, dv: 2, magnitude: 1, scale: .standard, seed: 7)
        let g = Self.upstream(c, Double.self)
        let grads = try ReferenceBackward.compute(
            AttentionTensors(q: q, k: k, v: v), dO: g, scale: .standard, scoreModel: causal ? .causal() : .plain)
        func loss(_ q: Tensor<Double>, _ k: Tensor<Double>, _ v: Tensor<Double>) throws -> Double {
            let o = try ReferenceAttention.compute(
                q: q, k: k, v: v, scale: .standard, scoreModel: causal ? .causal() : .plain)
            return zip(o.storage, g.storage).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let h = 1e-6
        for (which, t, grad) in [(0, q, grads.dq), (1, k, grads.dk), (2, v, grads.dv)] {
            for x in 0..<t.count {
                var plus = t, minus = t
                plus[flat: x] += h
                minus[flat: x] -= h
                let args = { (u: Tensor<Double>) in which == 0 ? (u, k, v) : which == 1 ? (q, u, v) : (q, k, u) }
                let (a, b) = (args(plus), args(minus))
                let fd = (try loss(a.0, a.1, a.2) - loss(b.0, b.1, b.2)) / (2 * h)
                #expect(abs(fd - grad[flat: x]) < 1e-7, "tensor \(which) entry \(x): \(fd) vs \(grad[flat: x])")
            }
        }
    }

    @Test("GQA: dK and dV of a shared KV head are the sums over its query heads")
    func gqaSumsOverTheGroup() throws {
        var rng = Xoshiro256StarStar(seed: 11)
        let q: Tensor<Float> = InputDistribution.uniform.sample(heads: 4, rows: 9, cols: 5, bound: 2, using: &rng)
        let k: Tensor<Float> = InputDistribution.uniform.sample(heads: 2, rows: 300, cols: 5, bound: 2, using: &rng)
        let v: Tensor<Float> = InputDistribution.uniform.sample(heads: 2, rows: 300, cols: 3, bound: 2, using: &rng)
        let g: Tensor<Float> = InputDistribution.uniform.sample(heads: 4, rows: 9, cols: 3, bound: 1, using: &rng)
        let problem = try AttentionTensors(q: q, k: k, v: v)
        let grouped = try FusedBackward.compute(problem, dO: g, scale: .standard)
        let (ke, ve) = problem.expandedKV
        let expanded = try ReferenceBackward.compute(AttentionTensors(q: q, k: ke, v: ve), dO: g, scale: .standard)
        #expect(grouped.dk.shape == k.shape && grouped.dv.shape == v.shape && grouped.dq.shape == q.shape)
        for h in 0..<2 {
            for j in 0..<300 {
                for c in 0..<5 {
                    let sum = expanded.dk[2 * h, j, c] + expanded.dk[2 * h + 1, j, c]
                    #expect(abs(Double(grouped.dk[h, j, c]) - sum) < 1e-5)
                }
                for c in 0..<3 {
                    let sum = expanded.dv[2 * h, j, c] + expanded.dv[2 * h + 1, j, c]
                    #expect(abs(Double(grouped.dv[h, j, c]) - sum) < 1e-5)
                }
            }
        }
    }

    @Test("results do not depend on the thread count")
    func threadCountIndependent() throws {
        let (q, k, v) = randomQKV(heads: 2, nq: 300, nk: 700, d: 16, dv: 8, bound: 1, seed: 3, as: Float.self)
        var rng = Xoshiro256StarStar(seed: 4)
        let g: Tensor<Float> = InputDistribution.uniform.sample(heads: 2, rows: 300, cols: 8, bound: 1, using: &rng)
        let problem = try AttentionTensors(q: q, k: k, v: v)
        let one = try FusedBackward.compute(problem, dO: g, scale: .standard, scoreModel: .causal(), threads: 1)
        let many = try FusedBackward.compute(problem, dO: g, scale: .standard, scoreModel: .causal(), threads: 5)
        #expect(one.dq.storage == many.dq.storage && one.dk.storage == many.dk.storage)
        #expect(one.dv.storage == many.dv.storage)
    }

    @Test("a gradient of the wrong shape or with NaN is refused, naming dO")
    func badUpstreamGradient() throws {
        let (q, k, v) = randomQKV(heads: 1, nq: 3, nk: 4, d: 2, dv: 2, bound: 1, seed: 1, as: Float.self)
        let problem = try AttentionTensors(q: q, k: k, v: v)
        for g in [
            Tensor<Float>(rows: 3, cols: 3), Tensor<Float>(rows: 3, cols: 2, storage: [0, 0, .nan, 0, 0, 0]),
        ] {
            #expect(throws: AttnError.self) { _ = try FusedBackward.compute(problem, dO: g, scale: .standard) }
            do { _ = try FusedBackward.compute(problem, dO: g, scale: .standard) } catch let e as AttnError {
                #expect(e.parameter == .dO)
            }
        }
    }
}
