import AttnCore
import AttnKernels
import Foundation

/// The equal-rank approximations of attention, behind one interface.
public enum ApproxMethod: String, Sendable, CaseIterable, Codable {
    /// Alman–Song polynomial method (certified a-priori bound).
    case poly
    /// Truncated SVD of A (optimal rank r; small n only).
    case svd
    /// Performer FAVOR+ positive orthogonal random features (seeded).
    case performer
    /// Nyström with r landmark queries and keys (seeded).
    case nystrom
}

/// How the rank is chosen.
public enum RankRequest: Sendable, Equatable {
    /// A rank budget r (poly: the largest g with C(g + d, d) ≤ r).
    case rank(Int)
    /// Poly: the certified degree for ε; the others: the same rank C(g + d, d).
    case epsilon(Double)

    /// The request that exactly one of `rank` and `epsilon` makes (each is checked where it is used).
    /// - Throws: `AttnError.usage(.rank, …)` unless exactly one is given.
    public init(rank: Int?, epsilon: Double?) throws {
        switch (rank, epsilon) {
        case (let r?, nil): self = .rank(r)
        case (nil, let e?): self = .epsilon(e)
        default: throw AttnError.usage(.rank, "give exactly one of a rank budget and a target ε")
        }
    }
}

public struct ApproximationOptions: Sendable, Equatable {
    public var method: ApproxMethod
    public var request: RankRequest
    /// The polynomial family (also fixes the rank of the others under `.epsilon`).
    public var family: ExpFamily
    public var seed: UInt64
    /// Ã's relative entry error is measured when n_q·n_k ≤ this (it needs A).
    public var entryErrorLimit: Int

    public init(
        method: ApproxMethod, request: RankRequest, family: ExpFamily = .chebyshev, seed: UInt64 = 0,
        entryErrorLimit: Int = 2048 * 2048
    ) {
        self.method = method
        self.request = request
        self.family = family
        self.seed = seed
        self.entryErrorLimit = entryErrorLimit
    }
}

/// What one head used and measured.
public struct ApproximationHead: Sendable, Equatable {
    public let rank: Int
    /// Polynomial degree (poly, or the degree that fixed the rank under `.epsilon`).
    public let degree: Int?
    /// Score radius R = s·max‖q‖·max‖k‖.
    public let radius: Double
    /// max_ij |Ã_ij − A_ij|/A_ij (nil when n_q·n_k exceeds the limit).
    public let maxRelativeEntryError: Double?
    /// A-priori bound on max|T − Att| (poly only).
    public let bound: Double?
    /// Certified relative error of P̂ on [−R, R] (poly only).
    public let certifiedRelativeError: Double?
}

public struct ApproximationResult: Sendable {
    public let method: ApproxMethod
    public let output: Tensor<Double>
    public let heads: [ApproximationHead]
    public let seed: UInt64
    /// max over heads of the a-priori bound (poly only).
    public var maxErrorBound: Double? {
        let b = heads.compactMap(\.bound)
        return b.isEmpty ? nil : b.max()
    }
    /// max over heads of Ã's relative entry error, if measured.
    public var maxRelativeEntryError: Double? {
        let e = heads.compactMap(\.maxRelativeEntryError)
        return e.count == heads.count && !e.isEmpty ? e.max() : nil
    }
}

public enum Approximation {
    /// Largest number of factor entries (n_q + n_k)·r the baselines allocate.
    public static let maxFactorEntries = 1 << 27

    /// Runs one method on every head (Float64).
    /// - Throws: `AttnError.usage` for bad shapes or options; `.infeasible` past a size limit.
    public static func run(
        q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, scale: Scale,
        options o: ApproximationOptions
    ) throws -> ApproximationResult {
        try validateAttentionShapes(q: q, k: k, v: v)
        let (nq, nk, d, dv) = (q.rows, k.rows, q.cols, v.cols)
        let s = scale.value(d: d)
        switch o.request {
        case .rank(let r): guard r >= 1 else { throw AttnError.usage(.rank, "\(r) must be ≥ 1") }
        case .epsilon(let e):
            guard e > 0, e.isFinite else { throw AttnError.usage(.epsilon, "\(e) must be positive and finite") }
        }
        let measureEntries = nq * nk <= o.entryErrorLimit
        var out = Tensor<Double>(heads: q.heads, rows: nq, cols: dv, logicalRank: q.logicalRank)
        var heads: [ApproximationHead] = []

        // The polynomial method is `PolyAttention` (its one API); the others are low-rank baselines.
        guard let baseline = Baseline(o.method) else {
            let degree: PolyOptions.Degree
            switch o.request {
            case .rank(let r): degree = .maxRank(r)
            case .epsilon(let e): degree = .epsilon(e)
            }
            let res = try PolyAttention.compute(
                q: q, k: k, v: v, scale: scale,
                options: PolyOptions(family: o.family, degree: degree))
            for h in 0..<q.heads {
                let rep = res.heads[h]
                var entry: Double? = nil
                if measureEntries, (nq + nk).multipliedReportingOverflow(by: rep.rank).partialValue <= maxFactorEntries,
                    !(nq + nk).multipliedReportingOverflow(by: rep.rank).overflow
                {
                    let (qh, kh) = (q.head(h).storage, k.head(h).storage)
                    let f = polyFactors(rep.polynomial, q: qh, k: kh, nq: nq, nk: nk, d: d, scale: s)
                    entry = f.maxRelativeEntryError(scores: exactScores(q: qh, k: kh, nq: nq, nk: nk, d: d, scale: s))
                }
                heads.append(
                    ApproximationHead(
                        rank: rep.rank, degree: rep.polynomial.degree, radius: rep.radius,
                        maxRelativeEntryError: entry, bound: rep.bound.total,
                        certifiedRelativeError: rep.polynomial.certifiedRelativeError))
            }
            return ApproximationResult(method: .poly, output: res.output, heads: heads, seed: o.seed)
        }

        for h in 0..<q.heads {
            let (qh, kh, vh) = (q.head(h).storage, k.head(h).storage, v.head(h).storage)
            let R = qh.withUnsafeBufferPointer { qb in
                kh.withUnsafeBufferPointer { kb in ScoreRadius.measured(q: qb, k: kb, nq: nq, nk: nk, d: d, scale: s) }
            }
            var r: Int, g: Int? = nil
            switch o.request {
            case .rank(let rr): r = rr
            case .epsilon(let e):
                guard let gg = CertifiedExpBound.certifiedDegree(R: R, epsilon: e, family: o.family),
                    let rr = PolyRank.rank(d: d, degree: gg)
                else {
                    throw AttnError.infeasible("no certified degree (or rank beyond Int) for ε = \(e) at R = \(R)")
                }
                (r, g) = (rr, gg)
            }
            if baseline == .svd || baseline == .nystrom { r = min(r, nq, nk) }
            guard (nq + nk).multipliedReportingOverflow(by: r).partialValue <= maxFactorEntries,
                !(nq + nk).multipliedReportingOverflow(by: r).overflow
            else {
                throw AttnError.infeasible(
                    "\(o.method.rawValue): rank \(r) with n = \(nq)+\(nk) exceeds \(maxFactorEntries) factor entries")
            }
            let seed = SplitMix64.mix(o.seed, UInt64(h))
            let f: LowRankFactors
            var scores: [Double]? = nil
            switch baseline {
            case .svd:
                let x = exactScores(q: qh, k: kh, nq: nq, nk: nk, d: d, scale: s)
                f = try SVDBaseline.factors(scores: x, rows: nq, keys: nk, rank: r).0
                scores = x
            case .performer:
                f = PerformerBaseline.factors(q: qh, k: kh, nq: nq, nk: nk, d: d, scale: s, rank: r, seed: seed)
            case .nystrom:
                f = try NystromBaseline.factors(q: qh, k: kh, nq: nq, nk: nk, d: d, scale: s, rank: r, seed: seed)
            }
            let (t, _) = f.attention(values: vh, valueCols: dv)
            for i in 0..<(nq * dv) { out[flat: h * nq * dv + i] = t[i] }
            var entry: Double? = nil
            if measureEntries {
                entry = f.maxRelativeEntryError(
                    scores: scores ?? exactScores(q: qh, k: kh, nq: nq, nk: nk, d: d, scale: s))
            }
            heads.append(
                ApproximationHead(
                    rank: f.rank, degree: g, radius: R, maxRelativeEntryError: entry,
                    bound: nil, certifiedRelativeError: nil))
        }
        return ApproximationResult(method: o.method, output: out, heads: heads, seed: o.seed)
    }

    /// The methods measured against the polynomial method, each as low-rank factors of A.
    enum Baseline {
        case svd, performer, nystrom
        init?(_ method: ApproxMethod) {
            switch method {
            case .poly: return nil
            case .svd: self = .svd
            case .performer: self = .performer
            case .nystrom: self = .nystrom
            }
        }
    }

    /// The polynomial method's Ã = U₁U₂ᵀ as factors (row-major U₁, U₂).
    public static func polyFactors(
        _ p: ExpPolynomial, q: [Double], k: [Double], nq: Int, nk: Int, d: Int,
        scale s: Double
    ) -> LowRankFactors {
        let fmap = PolyFeatureMap<Double>(polynomial: p, variables: d, scale: s)
        let r = fmap.rank
        func side(_ x: [Double], _ n: Int, _ which: PolyFeatureMap<Double>.Side) -> [Double] {
            var fm = [Double](repeating: 0, count: r * max(1, n)),
                scratch = [Double](repeating: 0, count: d * max(1, n))
            if n > 0 {
                x.withUnsafeBufferPointer { xb in
                    fmap.build(side: which, rows: n, input: xb.baseAddress!, into: &fm, ldOut: n, scratch: &scratch)
                }
            }
            var rm = [Double](repeating: 0, count: n * r)
            for a in 0..<r { for i in 0..<n { rm[i * r + a] = fm[a * n + i] } }
            return rm
        }
        return LowRankFactors(rows: nq, keys: nk, rank: r, left: side(q, nq, .query), right: side(k, nk, .key))
    }

    /// Exact attention in Float64 to measure against: the reference kernel
    /// when n_q·n_k ≤ 4096², else the fast kernel in Float64.
    public static func exact(q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, scale: Scale) throws -> Tensor<
        Double
    > {
        if q.rows * k.rows <= 4096 * 4096 {
            return try ReferenceAttention.compute(q: q, k: k, v: v, scale: scale)
        }
        return try FastAttention.compute(q: q, k: k, v: v, scale: scale)
    }
}
