import AttnCore
import AttnKernels
import CLapack
import Foundation

/// What `GradientPolyMethod.compute` returns: g̃ ≈ dL/dX with its certified a-priori bound.
public struct GradientPolyResult: Sendable {
    /// g̃, d × d row-major.
    public let gradient: [Double]
    public let polynomial: ExpPolynomial
    /// R ≥ max|s·(A₁X)_j·A₂_l| (exact scores, not their rounded values).
    public let radius: Double
    /// k₁ = C(g + d, d): the rank of f̃ = U₁V₁ᵀ.
    public let k1: Int
    /// k₂ = d: the rank of q̃ = c̃hᵀ (c̃ is formed, so q̃'s rank is d, not the paper's k₁ + d).
    public let k2: Int
    /// The bound on ‖g̃ − dL/dX‖∞ and its parts.
    public let bound: GradientErrorBound
    /// k₁·k₂, the rank of p₁ = f̃ ∘ q̃.
    public var rank: Int { k1 * k2 }
}

/// The polynomial method for the gradient of Alman–Song's loss (AS24b Thm D.6; `GradientProblem`):
/// dL/dX ≈ g̃ in O(n·k₁·d²) time and O(k₁·d²) memory beyond one block of features.
///
/// With s = 1/d, Q = A₁X, h = A₃Y and the forward polynomial method's features (`PolyFeatureMap`),
/// U₁ (queries, n × k₁) and V₁ (keys, n × k₁), so that Ã = U₁V₁ᵀ, Ã_jl = P̂(s⟨Q_j, A₂_l⟩):
///
///  1. f̃ = D̃⁻¹U₁V₁ᵀ, D̃ = U₁(V₁ᵀ1): rank k₁;
///  2. c̃ = D̃⁻¹U₁(V₁ᵀh) − E (n × d), formed;
///  3. q̃ = c̃hᵀ, of rank k₂ = d (the paper keeps c̃ unformed and gets k₁ + d);
///  4. p̃₁ = f̃ ∘ q̃ = (D̃⁻¹U₁ ⊘ c̃)(V₁ ⊘ h)ᵀ, with ⊘ the row-wise Kronecker product: rank k₁·k₂;
///  5. p̃₂ = diag(r̃)·f̃, r̃_j = ⟨c̃_j, f̃_j h⟩ (the paper's f̃·diag(r̃) has the diagonal on the wrong side);
///  6. g̃ = s·A₁ᵀ(p̃₁ − p̃₂)A₂ = s·[(A₁ᵀ(D̃⁻¹U₁ ⊘ c̃))((V₁ ⊘ h)ᵀA₂) − (A₁ᵀ diag(r̃)D̃⁻¹U₁)(V₁ᵀA₂)].
///
/// No n × n matrix and no n × k₁k₂ matrix exists: keys and queries are processed in blocks.
/// Bound: `GradientErrorBound` (approximation + every rounding). Proof:
/// Proofs/gradient-polynomial-method.md. Tests: `GradientPolyMethodTests`.
public enum GradientPolyMethod {
    /// Largest k₁ accepted (M₁, M₂ hold 2·k₁·d² doubles).
    public static let maxRank = 1 << 20

    /// - Parameters:
    ///   - family, degree: as `PolyOptions` (`.epsilon(ε)`: the smallest certified degree).
    ///   - radius: the interval [−R, R] of P̂; nil (default) measures it from the data. A given R must
    ///     cover the data (within 10⁻¹² relative, where it is widened to the measured value).
    /// - Throws: `AttnError.usage` when a given radius does not cover the scores;
    ///   `AttnError.infeasible` when the radius, degree or rank exceed the limits.
    public static func compute(
        _ p: GradientProblem, family: ExpFamily = .chebyshev, degree: PolyOptions.Degree, radius fixed: Double? = nil
    ) throws -> GradientPolyResult {
        let (n, d) = (p.n, p.d)
        let s = 1 / Double(d)
        let (q, h, _, hBar) = p.products
        let measured = GradientErrorBound.radius(q: q, a2: p.a2, n: n, d: d)
        let radius = try PolyAttention.radius(
            fixed.map { .fixed($0) } ?? .measured, measured: measured, d: d, s: s, head: 0)
        let poly = try PolyAttention.polynomial(
            PolyOptions(family: family, degree: degree, radius: .fixed(radius)), R: radius, d: d)
        guard let k1 = PolyRank.rank(d: d, degree: poly.degree), k1 <= maxRank,
            k1.multipliedReportingOverflow(by: d * d).partialValue <= 1 << 26
        else {
            throw AttnError.infeasible(.rank, "C(\(poly.degree + d), \(d)) · d² exceeds the limit 2^26")
        }
        let fmap = PolyFeatureMap<Double>(polynomial: poly, variables: d, scale: s)
        let nb = max(1, min(256, n, (1 << 22) / k1))
        let kd = k1 * d
        // Key side: W = V₁ᵀ[h | 1] (k₁ × (d+1)), N₂ = V₁ᵀA₂ (k₁ × d), M₂ = (V₁ ⊘ h)ᵀA₂ (k₁d × d, row (b', α)),
        // and Σ_l |V₁_lα| for the denominators' majorant.
        var wh = [Double](repeating: 0, count: k1 * (d + 1)), n2 = [Double](repeating: 0, count: k1 * d)
        var m2 = [Double](repeating: 0, count: kd * d), absV = [Double](repeating: 0, count: k1)
        var feats = [Double](repeating: 0, count: k1 * nb), z = feats
        var scratch = [Double](repeating: 0, count: d * nb), aug = [Double](repeating: 0, count: nb * (d + 1))
        var featureMax = 0.0  // the largest |feature|, for the underflow term
        var j0 = 0
        while j0 < n {
            let rows = min(nb, n - j0)
            build(fmap, .key, p.a2, j0, rows, &feats, &scratch)
            for i in 0..<rows {
                for b in 0..<d { aug[i * (d + 1) + b] = h[(j0 + i) * d + b] }
                aug[i * (d + 1) + d] = 1
            }
            gemm(false, false, k1, d + 1, rows, feats, rows, aug, d + 1, &wh, d + 1)
            p.a2.withUnsafeBufferPointer { a2 in
                let blk = a2.baseAddress! + j0 * d
                gemm(false, false, k1, d, rows, feats, rows, blk, d, &n2, d)
                for b in 0..<d {
                    for a in 0..<k1 {
                        for i in 0..<rows { z[a * rows + i] = feats[a * rows + i] * h[(j0 + i) * d + b] }
                    }
                    m2.withUnsafeMutableBufferPointer { mb in
                        gemm(false, false, k1, d, rows, z, rows, blk, d, mb.baseAddress! + b * k1 * d, d)
                    }
                }
            }
            for a in 0..<k1 {
                var t = 0.0
                for i in 0..<rows { t += abs(feats[a * rows + i]) }
                absV[a] += t
                featureMax = max(featureMax, t)
            }
            j0 += rows
        }
        // Query side: per block, D̃, ŵ = f̃h, c̃, r̃; M₁ = A₁ᵀ(D̃⁻¹U₁ ⊘ c̃) (d × k₁d, column (b', α)),
        // N₁ = A₁ᵀ diag(r̃/D̃) U₁ (d × k₁); and the bound's per-row pieces.
        var m1 = [Double](repeating: 0, count: d * kd), n1 = [Double](repeating: 0, count: d * k1)
        var yq = [Double](repeating: 0, count: nb * (d + 1))
        var accumulator = GradientErrorBound.Accumulator(problem: p, h: h, hBar: hBar, polynomial: poly, k1: k1)
        var scaleC = [Double](repeating: 0, count: nb * d), scaleR = [Double](repeating: 0, count: nb)
        j0 = 0
        while j0 < n {
            let rows = min(nb, n - j0)
            q.withUnsafeBufferPointer { qb in
                fmap.build(
                    side: .query, rows: rows, input: qb.baseAddress! + j0 * d, into: &feats, ldOut: rows,
                    scratch: &scratch)
            }
            for i in 0..<(rows * (d + 1)) { yq[i] = 0 }
            gemm(true, false, rows, d + 1, k1, feats, rows, wh, d + 1, &yq, d + 1)
            for i in 0..<(k1 * rows) { featureMax = max(featureMax, abs(feats[i])) }
            for i in 0..<rows {
                var dBar = 0.0
                for a in 0..<k1 { dBar += abs(feats[a * rows + i]) * absV[a] }
                let den = yq[i * (d + 1) + d]
                var wRow = [Double](repeating: 0, count: d), cRow = wRow
                var r = 0.0
                for b in 0..<d {
                    wRow[b] = yq[i * (d + 1) + b] / den
                    cRow[b] = wRow[b] - p.e[(j0 + i) * d + b]
                    r += cRow[b] * wRow[b]
                }
                for b in 0..<d { scaleC[i * d + b] = cRow[b] / den }
                scaleR[i] = r / den
                accumulator.addRow(j0 + i, denominator: den, majorant: dBar, w: wRow, c: cRow, r: r)
            }
            p.a1.withUnsafeBufferPointer { a1 in
                let blk = a1.baseAddress! + j0 * d
                for a in 0..<k1 {
                    for i in 0..<rows { z[a * rows + i] = feats[a * rows + i] * scaleR[i] }
                }
                // N₁ += A₁_blkᵀ (rows × d)ᵀ · zᵀ (rows × k₁).
                gemmNT(d, k1, rows, blk, d, z, rows, &n1, k1, offset: 0)
                for b in 0..<d {
                    for a in 0..<k1 {
                        for i in 0..<rows { z[a * rows + i] = feats[a * rows + i] * scaleC[i * d + b] }
                    }
                    gemmNT(d, k1, rows, blk, d, z, rows, &m1, kd, offset: b * k1)
                }
            }
            j0 += rows
        }
        // g̃ = s·(M₁M₂ − N₁N₂).
        var t1 = [Double](repeating: 0, count: d * d), t2 = t1
        gemm(false, false, d, d, kd, m1, kd, m2, d, &t1, d)
        gemm(false, false, d, d, k1, n1, k1, n2, d, &t2, d)
        let g = (0..<(d * d)).map { (t1[$0] - t2[$0]) / Double(d) }
        let bound = accumulator.finish(
            t1: t1, t2: t2, a2: p.a2, features: featureMax, degree: poly.degree, k1: k1)
        return GradientPolyResult(gradient: g, polynomial: poly, radius: radius, k1: k1, k2: d, bound: bound)
    }

    static func build(
        _ fmap: PolyFeatureMap<Double>, _ side: PolyFeatureMap<Double>.Side, _ x: [Double], _ j0: Int, _ rows: Int,
        _ feats: inout [Double], _ scratch: inout [Double]
    ) {
        x.withUnsafeBufferPointer { xb in
            fmap.build(
                side: side, rows: rows, input: xb.baseAddress! + j0 * fmap.table.variables, into: &feats,
                ldOut: rows, scratch: &scratch)
        }
    }

    /// C += op(A)·B (row-major).
    static func gemm(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Double>, _ lda: Int,
        _ b: UnsafePointer<Double>, _ ldb: Int, _ c: UnsafeMutablePointer<Double>, _ ldc: Int
    ) {
        cblas_dgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, blasint(m),
            blasint(n), blasint(k), 1, a, blasint(lda), b, blasint(ldb), 1, c, blasint(ldc))
    }

    /// C[:, offset…] += Aᵀ·Bᵀ with A rows × m (lda) and B n × rows (ldb): C is m × n inside ldc.
    static func gemmNT(
        _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>,
        _ ldb: Int, _ c: inout [Double], _ ldc: Int, offset: Int
    ) {
        c.withUnsafeMutableBufferPointer { cb in
            cblas_dgemm(
                CblasRowMajor, CblasTrans, CblasTrans, blasint(m), blasint(n), blasint(k), 1, a, blasint(lda), b,
                blasint(ldb), 1, cb.baseAddress! + offset, blasint(ldc))
        }
    }
}
