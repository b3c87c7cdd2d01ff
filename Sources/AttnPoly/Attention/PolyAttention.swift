import AttnCore
import AttnKernels
import Foundation

/// How the polynomial method picks its degree and its interval.
public struct PolyOptions: Sendable, Equatable {
    public enum Degree: Sendable, Equatable {
        /// The smallest certified degree for relative error ε of eˣ on [−R, R].
        case epsilon(Double)
        /// A fixed degree g (rank C(g + d, d)).
        case degree(Int)
        /// The largest degree whose rank C(g + d, d) is ≤ the budget.
        case maxRank(Int)
    }

    public enum Radius: Sendable, Equatable {
        /// s·max‖q_i‖·max‖k_j‖ per head, from the data (always valid).
        case measured
        /// s·d·B² for entries in [−B, B] (checked against the data).
        case entryBound(Double)
        /// A given R (checked against the data).
        case fixed(Double)
    }

    public var family: ExpFamily
    public var degree: Degree
    public var radius: Radius
    /// Rows per feature block (memory: 2·blockRows·r scalars per worker).
    public var blockRows: Int
    /// Worker threads (default: active processors). Results do not depend on it.
    public var threads: Int?

    public init(
        family: ExpFamily = .chebyshev, degree: Degree, radius: Radius = .measured,
        blockRows: Int = 256, threads: Int? = nil
    ) {
        self.family = family
        self.degree = degree
        self.radius = radius
        self.blockRows = blockRows
        self.threads = threads
    }
}

/// What the method used for one head, with its a-priori bound.
public struct PolyHeadReport: Sendable, Equatable {
    public let radius: Double
    public let polynomial: ExpPolynomial
    public let rank: Int
    public let bound: PolyErrorBound.Head
}

/// Output of `PolyAttention.compute`.
public struct PolyAttentionResult<T: AttnScalar>: Sendable {
    /// T = D̃⁻¹Ã V, heads × n_q × d_v.
    public let output: Tensor<T>
    /// D̃ = Ã·1, heads × n_q × 1 (positive for the shifted family).
    public let denominators: Tensor<T>
    public let heads: [PolyHeadReport]
    /// A-priori bound on max|T − Att(Q,K,V)| over all heads (`PolyErrorBound`).
    public var maxErrorBound: Double { heads.map(\.bound.total).max() ?? 0 }
    /// The a-priori bound of every output row (`PolyErrorBound.Head.rows`).
    public var rowBounds: RowBounds {
        RowBounds(heads: output.heads, rows: output.rows, values: heads.flatMap(\.bound.rows))
    }
    /// The output with its per-row bounds, in the kernels' common shape.
    public var result: AttentionResult<T> { AttentionResult(output: output, rowBounds: rowBounds) }
}

/// The Alman–Song polynomial method: T = D̃⁻¹U₁(U₂ᵀ[V | 1]) with
/// Ã = U₁U₂ᵀ, Ã_ij = P̂(s⟨q_i, k_j⟩), in O(n·r·(d + d_v)) time and
/// O(blockRows·r + r·d_v) extra memory per worker.
///
/// Keys are processed in a fixed number of chunks (a function of the sizes
/// only) whose partial sums are added in order, so the result does not
/// depend on the thread count.
/// Error bound: `PolyErrorBound` (returned with the result).
/// Edge cases: no causal mask (the factorisation covers the whole of A);
/// R = 0 gives degree 0 and T = the mean of V; radii above
/// `ExpPolynomial.maxRadius` are refused (`infeasible`) since e^{±R} leaves
/// the double range of the coefficients.
public enum PolyAttention {
    /// Largest rank the kernel accepts.
    public static let maxRank = 1 << 22
    static let keyChunks = 8

    /// - Throws: `AttnError.usage` on bad shapes, NaN/Inf, bad options, or scores
    ///   outside a given radius; `AttnError.infeasible` if the degree or rank
    ///   exceeds the limits.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func compute<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        options: PolyOptions
    ) throws -> PolyAttentionResult<T> {
        try validateAttentionShapes(q: q, k: k, v: v)  // @inlinable: specialised here
        guard options.blockRows >= 1 else { throw AttnError.usage("blockRows must be ≥ 1") }
        let (nq, nk, d, dv, H) = (q.rows, k.rows, q.cols, v.cols, q.heads)
        let s = scale.value(d: d)
        var out = Tensor<T>(heads: H, rows: nq, cols: dv, logicalRank: q.logicalRank)
        var den = Tensor<T>(heads: H, rows: nq, cols: 1, logicalRank: q.logicalRank)
        var reports: [PolyHeadReport] = []
        for h in 0..<H {
            let qo = h * nq * d, ko = h * nk * d, vo = h * nk * dv
            let measured = q.storage.withUnsafeBufferPointer { qb in
                k.storage.withUnsafeBufferPointer { kb in
                    ScoreRadius.measured(
                        q: UnsafeBufferPointer(rebasing: qb[qo..<qo + nq * d]),
                        k: UnsafeBufferPointer(rebasing: kb[ko..<ko + nk * d]),
                        nq: nq, nk: nk, d: d, scale: s)
                }
            }
            let R = try radius(options.radius, measured: measured, d: d, s: s, head: h)
            let poly = try polynomial(options, R: R, d: d)
            guard let r = PolyRank.rank(d: d, degree: poly.degree), r <= maxRank else {
                throw AttnError.infeasible("rank C(\(poly.degree + d), \(d)) exceeds the limit \(maxRank)")
            }
            // Memory: partial sums chunks·r·(d_v+1) ≤ 2²⁶ scalars, feature blocks ≤ 2²⁴ per worker.
            let (rw, o) = r.multipliedReportingOverflow(by: dv + 1)
            guard !o, rw <= 1 << 26 else {
                throw AttnError.infeasible("rank \(r) × (d_v + 1) = \(r)·\(dv + 1) partial sums exceed 2^26 scalars")
            }
            let fmap = PolyFeatureMap<T>(polynomial: poly, variables: d, scale: s)
            let chunks = max(1, min(keyChunks, nk / 1024, (1 << 26) / rw))
            let blockRows = max(1, min(options.blockRows, (1 << 24) / r))
            var finite = true
            q.storage.withUnsafeBufferPointer { qb in
                k.storage.withUnsafeBufferPointer { kb in
                    v.storage.withUnsafeBufferPointer { vb in
                        out.withUnsafeMutableBufferPointer { ob in
                            den.withUnsafeMutableBufferPointer { db in
                                finite = run(
                                    fmap: fmap, q: qb.baseAddress! + qo, k: kb.baseAddress! + ko,
                                    v: vb.baseAddress! + vo,
                                    out: ob.baseAddress! + h * nq * dv, den: db.baseAddress! + h * nq,
                                    nq: nq, nk: nk, d: d, dv: dv, chunks: chunks, blockRows: blockRows,
                                    threads: options.threads)
                            }
                        }
                    }
                }
            }
            try checkFinite(finite, out: out, den: den, head: h)
            let bound = q.storage.withUnsafeBufferPointer { qb in
                k.storage.withUnsafeBufferPointer { kb in
                    v.storage.withUnsafeBufferPointer { vb in
                        PolyErrorBound.head(
                            q: UnsafeBufferPointer(rebasing: qb[qo..<qo + nq * d]),
                            k: UnsafeBufferPointer(rebasing: kb[ko..<ko + nk * d]),
                            v: UnsafeBufferPointer(rebasing: vb[vo..<vo + nk * dv]),
                            nq: nq, nk: nk, d: d, dv: dv, scale: s, polynomial: poly,
                            chunks: chunks, unitRoundoff: T.unitRoundoff)
                    }
                }
            }
            reports.append(PolyHeadReport(radius: R, polynomial: poly, rank: r, bound: bound))
        }
        return PolyAttentionResult(output: out, denominators: den, heads: reports)
    }

    static func radius(_ choice: PolyOptions.Radius, measured: Double, d: Int, s: Double, head: Int) throws -> Double {
        let R: Double
        switch choice {
        case .measured: return measured
        case .entryBound(let B):
            guard B.isFinite, B >= 0 else { throw AttnError.usage(.B, "\(B) must be finite and ≥ 0") }
            R = ScoreRadius.fromEntryBound(B, d: d, scale: s)
        case .fixed(let x):
            guard x.isFinite, x >= 0 else { throw AttnError.usage("radius \(x) must be finite and ≥ 0") }
            R = x
        }
        // The certificate covers [−R, R] only, so the data must lie inside. `measured`
        // carries tiny upward margins (≤ 10⁻¹² relative): within them we widen R to it.
        guard measured <= R * (1 + 1e-12) || measured - R < 1e-300 else {
            throw AttnError.usage("head \(head): scores reach \(measured), beyond the radius R = \(R)")
        }
        return max(R, measured)
    }

    static func polynomial(_ o: PolyOptions, R: Double, d: Int) throws -> ExpPolynomial {
        switch o.degree {
        case .epsilon(let e):
            return try ExpPolynomial(family: o.family, radius: R, epsilon: e)
        case .degree(let g):
            return try ExpPolynomial(family: o.family, radius: R, degree: g)
        case .maxRank(let r):
            guard let g = PolyRank.largestDegree(d: d, maxRank: r) else {
                throw AttnError.usage("rank budget \(r) must be ≥ 1")
            }
            return try ExpPolynomial(family: o.family, radius: R, degree: min(g, ExpPolynomial.maxDegree))
        }
    }

    /// The bound (polynomial-method-error.md §5c) assumes every feature, W = U₂ᵀ[V | 1], Y = U₁W and T
    /// finite. An overflow never returns to a finite value except through a division by ±∞, which only
    /// the denominators Y[:, d_v] can be: so W, D̃ and T finite imply that nothing overflowed. Otherwise
    /// the request is beyond the working format (`infeasible`, exit 3), never a finite bound beside ±∞.
    static func checkFinite<T: AttnScalar>(_ w: Bool, out: Tensor<T>, den: Tensor<T>, head h: Int) throws {
        let rows = out.rows, dv = out.cols
        let o = out.storage[h * rows * dv..<(h + 1) * rows * dv], dn = den.storage[h * rows..<(h + 1) * rows]
        guard w, o.allSatisfy({ $0.isFinite }), dn.allSatisfy({ $0.isFinite }) else {
            throw AttnError.infeasible(
                .v,
                "head \(h): the polynomial method's features or sums exceed the \(T.dtypeName) range (|V|·n_k·P̂(R) too large); use exact attention or scale V down"
            )
        }
    }

    /// One head: W = Σ_chunks U₂ᵀ[V | 1], then Y = U₁W, T = Y[:, :dv]/Y[:, dv]. Returns whether W is finite.
    static func run<T: KernelScalar>(
        fmap: PolyFeatureMap<T>, q: UnsafePointer<T>, k: UnsafePointer<T>,
        v: UnsafePointer<T>, out: UnsafeMutablePointer<T>, den: UnsafeMutablePointer<T>,
        nq: Int, nk: Int, d: Int, dv: Int, chunks: Int, blockRows: Int, threads: Int?
    ) -> Bool {
        let r = fmap.rank, w = dv + 1
        let nb = max(1, min(blockRows, max(nq, nk)))
        // Small problems: one worker (dispatch costs more than it saves; results are identical).
        let small = max(nq, nk).multipliedReportingOverflow(by: r).partialValue < 1 << 17
        let workers = small ? 1 : max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        var partial = [T](repeating: 0, count: chunks * r * w)
        let qs = UnsafeSendablePointer(mutating: q), ks = UnsafeSendablePointer(mutating: k)
        let vs = UnsafeSendablePointer(mutating: v)
        var wFinite = true
        BLASThreads.withSingleThreadedBLAS {
            partial.withUnsafeMutableBufferPointer { pb in
                let ps = UnsafeSendablePointer(pb.baseAddress!)
                // Key pass: chunk c covers keys [c·nk/chunks, (c+1)·nk/chunks).
                Parallel.forEachJob(chunks, workers: workers) { worker in
                    var feats = uninitialised(T.self, r * nb)
                    var scratch = uninitialised(T.self, d * nb)
                    var vaug = uninitialised(T.self, nb * w)
                    while let c = worker.next() {
                        let j0 = c * nk / chunks, j1 = (c + 1) * nk / chunks
                        var j = j0
                        while j < j1 {
                            let rows = min(nb, j1 - j)
                            for i in 0..<rows {
                                for col in 0..<dv { vaug[i * w + col] = vs.pointer[(j + i) * dv + col] }
                                vaug[i * w + dv] = 1
                            }
                            feats.withUnsafeMutableBufferPointer { fb in
                                scratch.withUnsafeMutableBufferPointer { sb in
                                    fmap.build(
                                        side: .key, rows: rows, input: ks.pointer + j * d, into: fb.baseAddress!,
                                        ldOut: rows, scratch: sb.baseAddress!)
                                    T.gemm(
                                        transA: false, transB: false, m: r, n: w, k: rows, alpha: 1,
                                        a: fb.baseAddress!, lda: rows, b: vaug, ldb: w, beta: 1,
                                        c: ps.pointer + c * r * w, ldc: w)
                                }
                            }
                            j += rows
                        }
                    }
                }
                // Sum the chunks in order (deterministic).
                for c in 1..<max(1, chunks) {
                    for e in 0..<(r * w) { pb[e] += pb[c * r * w + e] }
                }
            }
            let wsum = Array(partial[0..<(r * w)])
            wFinite = wsum.allSatisfy { $0.isFinite }
            let os = UnsafeSendablePointer(out), dn = UnsafeSendablePointer(den)
            let qBlocks = (nq + nb - 1) / nb
            Parallel.forEachJob(qBlocks, workers: workers) { worker in
                var feats = uninitialised(T.self, r * nb)
                var scratch = uninitialised(T.self, d * nb)
                var y = uninitialised(T.self, nb * w)
                while let b = worker.next() {
                    let i0 = b * nb, rows = min(nb, nq - i0)
                    feats.withUnsafeMutableBufferPointer { fb in
                        scratch.withUnsafeMutableBufferPointer { sb in
                            y.withUnsafeMutableBufferPointer { yb in
                                fmap.build(
                                    side: .query, rows: rows, input: qs.pointer + i0 * d, into: fb.baseAddress!,
                                    ldOut: rows, scratch: sb.baseAddress!)
                                T.gemm(
                                    transA: true, transB: false, m: rows, n: w, k: r, alpha: 1,
                                    a: fb.baseAddress!, lda: rows, b: wsum, ldb: w, beta: 0,
                                    c: yb.baseAddress!, ldc: w)
                                for i in 0..<rows {
                                    let dd = yb[i * w + dv]
                                    dn.pointer[i0 + i] = dd
                                    for col in 0..<dv { os.pointer[(i0 + i) * dv + col] = yb[i * w + col] / dd }
                                }
                            }
                        }
                    }
                }
            }
        }
        return wFinite
    }
}

/// A buffer whose every element the caller writes before reading (no zero fill:
/// the feature blocks are rebuilt for each block of rows).
@inline(__always)
func uninitialised<T: AttnScalar>(_: T.Type, _ count: Int) -> [T] {
    [T](unsafeUninitializedCapacity: count) { _, n in n = count }
}
