import AttnCore
import AttnPoly
import Foundation

/// `attnbound regime`: where each head of a real model sits against the
/// B = Θ(√log n) threshold of Alman–Song, with the polynomial method's
/// certified degree, rank and cost on it.
///
/// Every number comes from the one implementation of its concept: the score
/// radius from `ScoreRadius.measured`, the degree from
/// `CertifiedExpBound.certifiedDegree` (as `plan`), the rank from `PolyRank`,
/// the exponent log_n(n·r·d) from the sweep's `SweepMeasurer.costExponent`,
/// the verdict and crossover from `CostModel` (with d_v = d, as `plan`'s default).
public enum Regime {
    /// The target ε: a fixed value, or n^{−p} as in the sweep (`p = 1` by default).
    public enum Epsilon: Sendable, Equatable {
        case fixed(Double)
        case power(Double)

        /// A fixed ε if given, else n^{−power} (power 1 by default).
        /// - Throws: `AttnError.usage(.epsilon, …)` when both are given.
        public init(fixed: Double?, power: Double?) throws {
            if fixed != nil, power != nil {
                throw AttnError.usage(.epsilon, "a fixed ε and a power of n exclude each other")
            }
            self = fixed.map { .fixed($0) } ?? .power(power ?? 1)
        }

        public func value(n: Int) -> Double {
            switch self {
            case .fixed(let e): e
            case .power(let p): SweepConfiguration.epsilon(n: n, power: p)
            }
        }
    }

    public struct Options: Sendable, Equatable {
        public var scale: Scale
        public var epsilon: Epsilon
        public var family: ExpFamily
        public var model: CostModel
        public init(
            scale: Scale = .standard, epsilon: Epsilon = .power(1), family: ExpFamily = .chebyshev,
            model: CostModel = CostModel()
        ) {
            self.scale = scale; self.epsilon = epsilon; self.family = family; self.model = model
        }

        /// - Throws: `AttnError.usage` naming the parameter (`epsilon`) when it is out of range.
        public func validate() throws {
            switch epsilon {
            case .fixed(let e):
                guard e.isFinite, e > 0, e < 1 else { throw AttnError.usage(.epsilon, "\(e) must be in (0, 1)") }
            case .power(let p):
                guard p.isFinite, p > 0, p <= 8 else { throw AttnError.usage(.epsilonPower, "\(p) must be in (0, 8]") }
            }
        }
    }

    /// One entry per (batch, head) of Q, in order; K heads follow GQA
    /// (query head h reads K head h / (heads_q / heads_kv)).
    ///
    /// - Parameters: q, k: `[n, d]`, `[heads, n, d]` or `[batch, heads, n, d]` (same batch);
    ///   `progress(done, total)` after each head.
    /// - Throws: `AttnError.usage` (parameter `q`, `k`, `epsilon` or `epsilonPower`) for mismatched
    ///   shapes, empty or non-finite inputs, n_k < 2 (c and log_n need ln n > 0), or a bad ε;
    ///   `.infeasible` when a head's scores leave the Double range.
    public static func analyze(
        q: Tensor<Double>, k: Tensor<Double>, options: Options,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> [RegimeHead] {
        try options.validate()
        try validate(q: q, k: k)
        let batches = q.batch, hq = q.headsPerBatch, hk = k.headsPerBatch, group = hq / hk
        let (nq, nk, d) = (q.rows, k.rows, q.cols)
        var out: [RegimeHead] = []
        out.reserveCapacity(q.heads)
        try q.storage.withUnsafeBufferPointer { qs in
            try k.storage.withUnsafeBufferPointer { ks in
                for b in 0..<batches {
                    for h in 0..<hq {
                        let kh = h / group
                        let qb = UnsafeBufferPointer(rebasing: qs[q.offset(head: b * hq + h, row: 0)...].prefix(nq * d))
                        let kb = UnsafeBufferPointer(
                            rebasing: ks[k.offset(head: b * hk + kh, row: 0)...].prefix(nk * d))
                        out.append(
                            try head(
                                q: qb, k: kb, nq: nq, nk: nk, d: d, batch: b, head: h, kvHead: kh,
                                options: options))
                        progress?(out.count, q.heads)
                    }
                }
            }
        }
        return out
    }

    /// One head: n_q × d queries and n_k × d keys, row-major.
    static func head(
        q: UnsafeBufferPointer<Double>, k: UnsafeBufferPointer<Double>, nq: Int, nk: Int, d: Int,
        batch: Int, head: Int, kvHead: Int, options: Options
    ) throws -> RegimeHead {
        let maximum = ScoreMaximum.compute(q: q, k: k, nq: nq, nk: nk, d: d)
        guard maximum.normProduct.isFinite, maximum.value.isFinite else {
            throw AttnError.infeasible(
                "batch \(batch), head \(head): scores exceed the Double range "
                    + "(max‖q‖·max‖k‖ = \(maximum.normProduct))")
        }
        let B = max(q.reduce(0) { max($0, abs($1)) }, k.reduce(0) { max($0, abs($1)) })
        let eps = options.epsilon.value(n: nk)
        var scales = [options.scale]
        if options.scale.value(d: d) != Scale.paper.value(d: d) { scales.append(.paper) }
        let results = scales.map { scale in
            let s = scale.value(d: d)
            return RegimeAtScale.make(
                scale: scale, scaleValue: s,
                // A subnormal ŝ is off by up to τ/2 absolutely (scale-rounding.md): the radius must cover s*.
                radius: ScoreRadius.measured(q: q, k: k, nq: nq, nk: nk, d: d, scale: s.isNormal ? s : s + 0x1p-1074),
                maximum: maximum, n: nk, d: d, epsilon: eps, family: options.family,
                model: options.model)
        }
        return RegimeHead(
            batch: batch, head: head, kvHead: kvHead, queries: nq, keys: nk, d: d, entryBound: B,
            c: B / log(Double(nk)).squareRoot(), epsilon: eps, scales: results)
    }

    static func validate(q: Tensor<Double>, k: Tensor<Double>) throws {
        for (p, t) in [(Parameter.q, q), (.k, k)] {
            guard t.logicalRank >= 2 else {
                throw AttnError.usage(p, "need 2, 3 or 4 dimensions, got shape \(t.shape)")
            }
            guard t.rows >= 1, t.cols >= 1, t.heads >= 1 else { throw AttnError.usage(p, "empty, shape \(t.shape)") }
            guard t.isFinite else { throw AttnError.usage(p, "contains NaN or Inf") }
        }
        guard q.batch == k.batch else {
            throw AttnError.usage(.k, "shape mismatch: Q has batch \(q.batch) but K has \(k.batch)")
        }
        guard q.cols == k.cols else {
            throw AttnError.usage(.k, "shape mismatch: Q has d = \(q.cols) but K has d = \(k.cols)")
        }
        guard q.headsPerBatch % k.headsPerBatch == 0 else {
            throw AttnError.usage(
                .k,
                "shape mismatch: K's \(k.headsPerBatch) heads do not divide Q's "
                    + "\(q.headsPerBatch) (GQA needs heads_kv to divide heads_q)")
        }
        guard k.rows >= 2 else { throw AttnError.usage(.k, "needs at least 2 keys (c = B/√ln n needs ln n > 0)") }
    }
}
