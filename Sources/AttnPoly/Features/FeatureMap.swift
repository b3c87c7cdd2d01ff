import AttnCore

/// The feature maps U₁ (queries) and U₂ (keys) of the polynomial method:
/// with y = √s·q and z = √s·k,
///
///   u₁_α(q) = sgn(w_α)·√|w_α|·y^α,   u₂_α(k) = √|w_α|·z^α,
///   w_α = ĉ_{|α|}·|α|!/α!,
///
/// so that ⟨u₁(q), u₂(k)⟩ = Σ_t ĉ_t·(s⟨q,k⟩)ᵗ = P̂(s⟨q,k⟩) by the
/// multinomial theorem. Splitting |w_α| as √·√ keeps both sides of the same
/// magnitude, so neither over- nor underflows before the other.
///
/// Cost O(rows·r), memory O(rows·r) for the block being built; the n×n
/// matrix never exists. Proof: Proofs/rank-count.md.
public struct PolyFeatureMap<T: AttnScalar>: Sendable {
    public let table: MonomialTable
    public let sqrtScale: T
    /// sgn(w_α)·√|w_α| (query side) and √|w_α| (key side).
    let queryWeights: [T]
    let keyWeights: [T]

    public var rank: Int { table.count }

    /// - Precondition: d ≥ 1, scale > 0.
    public init(polynomial p: ExpPolynomial, variables d: Int, scale s: Double) {
        let table = MonomialTable(variables: d, degree: p.degree)
        self.table = table
        sqrtScale = T(s.squareRoot())
        var qw = [T](), kw = [T]()
        qw.reserveCapacity(table.count)
        kw.reserveCapacity(table.count)
        for a in 0..<table.count {
            let w = p.coefficients[table.totalDegree[a]] * table.multinomial[a]
            let root = abs(w).squareRoot()
            qw.append(T(w < 0 ? -root : root))
            kw.append(T(root))
        }
        queryWeights = qw
        keyWeights = kw
    }

    public enum Side: Sendable { case query, key }

    /// Writes the features of `rows` input rows (row-major, `d` columns) into
    /// `out`, feature-major: feature a of row i at `out[a·ldOut + i]`.
    ///
    /// - Parameters:
    ///   - scratch: at least `d·rows` elements (the scaled, transposed inputs).
    /// - Precondition: ldOut ≥ rows.
    public func build(
        side: Side, rows: Int, input x: UnsafePointer<T>, into out: UnsafeMutablePointer<T>,
        ldOut: Int, scratch: UnsafeMutablePointer<T>
    ) {
        let d = table.variables, r = table.count
        precondition(ldOut >= rows)
        for i in 0..<rows {
            for c in 0..<d { scratch[c * rows + i] = x[i * d + c] * sqrtScale }
        }
        for i in 0..<rows { out[i] = 1 }
        table.parent.withUnsafeBufferPointer { parent in
            table.variable.withUnsafeBufferPointer { variable in
                for a in 1..<max(1, r) {
                    let src = out + parent[a] * ldOut, dst = out + a * ldOut
                    let xs = scratch + variable[a] * rows
                    for i in 0..<rows { dst[i] = src[i] * xs[i] }
                }
            }
        }
        let w = side == .query ? queryWeights : keyWeights
        for a in 0..<r {
            let wa = w[a], dst = out + a * ldOut
            for i in 0..<rows { dst[i] *= wa }
        }
    }
}
