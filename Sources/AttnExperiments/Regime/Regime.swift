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
        public init(scale: Scale = .standard, epsilon: Epsilon = .power(1), family: ExpFamily = .chebyshev,
                    model: CostModel = CostModel()) {
            self.scale = scale; self.epsilon = epsilon; self.family = family; self.model = model
        }

        /// - Throws: `AttnError.usage` naming the parameter (`epsilon`) when it is out of range.
        public func validate() throws {
            switch epsilon {
            case .fixed(let e):
                guard e.isFinite, e > 0, e < 1 else { throw AttnError.usage("epsilon \(e) must be in (0, 1)") }
            case .power(let p):
                guard p.isFinite, p > 0, p <= 8 else { throw AttnError.usage("epsilon power \(p) must be in (0, 8]") }
            }
        }
    }

    /// One entry per (batch, head) of Q, in order; K heads follow GQA
    /// (query head h reads K head h / (heads_q / heads_kv)).
    ///
    /// - Parameters: q, k: `[batch, heads, n, d]` as `batches` consecutive blocks of heads
    ///   (today's reader yields `batches = 1`); `progress(done, total)` after each head.
    /// - Throws: `AttnError.usage` for mismatched shapes, empty or non-finite inputs, n_k < 2
    ///   (c and log_n need ln n > 0), or a bad ε; `.infeasible` when a head's scores leave the Double range.
    public static func analyze(q: Tensor<Double>, k: Tensor<Double>, batches: Int = 1, options: Options,
                               progress: ((Int, Int) -> Void)? = nil) throws -> [RegimeHead] {
        try options.validate()
        try validate(q: q, k: k, batches: batches)
        let hq = q.heads / batches, hk = k.heads / batches, group = hq / hk
        let (nq, nk, d) = (q.rows, k.rows, q.cols)
        var out: [RegimeHead] = []
        out.reserveCapacity(q.heads)
        try q.storage.withUnsafeBufferPointer { qs in
            try k.storage.withUnsafeBufferPointer { ks in
                for b in 0..<batches {
                    for h in 0..<hq {
                        let kh = h / group
                        let qb = UnsafeBufferPointer(rebasing: qs[q.offset(head: b * hq + h, row: 0)...].prefix(nq * d))
                        let kb = UnsafeBufferPointer(rebasing: ks[k.offset(head: b * hk + kh, row: 0)...].prefix(nk * d))
                        out.append(try head(q: qb, k: kb, nq: nq, nk: nk, d: d, batch: b, head: h, kvHead: kh,
                                            options: options))
                        progress?(out.count, q.heads)
                    }
                }
            }
        }
        return out
    }

    /// One head: n_q × d queries and n_k × d keys, row-major.
    static func head(q: UnsafeBufferPointer<Double>, k: UnsafeBufferPointer<Double>, nq: Int, nk: Int, d: Int,
                     batch: Int, head: Int, kvHead: Int, options: Options) throws -> RegimeHead {
        let maximum = ScoreMaximum.compute(q: q, k: k, nq: nq, nk: nk, d: d)
        guard maximum.normProduct.isFinite, maximum.value.isFinite else {
            throw AttnError.infeasible("batch \(batch), head \(head): scores exceed the Double range "
                                       + "(max‖q‖·max‖k‖ = \(maximum.normProduct))")
        }
        let B = max(q.reduce(0) { max($0, abs($1)) }, k.reduce(0) { max($0, abs($1)) })
        let eps = options.epsilon.value(n: nk)
        var scales = [options.scale]
        if options.scale.value(d: d) != Scale.paper.value(d: d) { scales.append(.paper) }
        let results = scales.map { scale in
            let s = scale.value(d: d)
            return RegimeAtScale.make(scale: scale, scaleValue: s,
                                      radius: ScoreRadius.measured(q: q, k: k, nq: nq, nk: nk, d: d, scale: s),
                                      maximum: maximum, n: nk, d: d, epsilon: eps, family: options.family,
                                      model: options.model)
        }
        return RegimeHead(batch: batch, head: head, kvHead: kvHead, queries: nq, keys: nk, d: d, entryBound: B,
                          c: B / log(Double(nk)).squareRoot(), epsilon: eps, scales: results)
    }

    static func validate(q: Tensor<Double>, k: Tensor<Double>, batches: Int) throws {
        guard batches >= 1, q.heads % batches == 0, k.heads % batches == 0 else {
            throw AttnError.usage("Q and K: \(q.heads) and \(k.heads) heads do not split into \(batches) batches")
        }
        for (name, t) in [("Q", q), ("K", k)] {
            guard t.logicalRank >= 2 else { throw AttnError.usage("\(name): need 2 to 4 dimensions, got shape \(t.shape)") }
            guard t.rows >= 1, t.cols >= 1, t.heads >= 1 else { throw AttnError.usage("\(name): empty, shape \(t.shape)") }
            guard t.isFinite else { throw AttnError.usage("\(name): contains NaN or Inf") }
        }
        guard q.cols == k.cols else {
            throw AttnError.usage("shape mismatch: Q has d = \(q.cols) but K has d = \(k.cols)")
        }
        let hq = q.heads / batches, hk = k.heads / batches
        guard hq % hk == 0 else {
            throw AttnError.usage("shape mismatch: K's \(hk) heads do not divide Q's \(hq) (GQA needs heads_kv | heads_q)")
        }
        guard k.rows >= 2 else { throw AttnError.usage("K: needs at least 2 keys (c = B/√ln n needs ln n > 0)") }
    }
}
