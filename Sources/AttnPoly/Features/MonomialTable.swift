/// The monomials x^α of total degree ≤ g in d variables, in graded order,
/// each built from a parent of degree one less: x^α = x^{parent(α)}·x_{var(α)}.
///
/// Postconditions: `count == PolyRank.rank(d:degree:)`; index 0 is the
/// constant monomial; `parent[a] < a` for a ≥ 1, so one left-to-right pass
/// builds every monomial from already-built ones with one multiplication.
/// `multinomial[a]` = |α|!/α! (exact while below 2⁵³; otherwise rounded,
/// relative error ≤ γ_{|α|}, accounted for in the rounding term).
public struct MonomialTable: Sendable, Equatable {
    public let variables: Int
    public let degree: Int
    public let parent: [Int]
    public let variable: [Int]
    public let totalDegree: [Int]
    public let multinomial: [Double]

    public var count: Int { parent.count }

    /// - Precondition: d ≥ 1, g ≥ 0 and C(g + d, d) ≤ `limit`.
    public init(variables d: Int, degree g: Int, limit: Int = 1 << 26) {
        precondition(d >= 1 && g >= 0)
        let r = PolyRank.rank(d: d, degree: g)
        precondition(r != nil && r! <= limit, "rank C(\(g + d), \(d)) too large")
        var parent = [0], variable = [0], deg = [0], multi = [1.0]
        var lastVar = [0], lastCount = [0]
        var levelStart = 0, levelEnd = 1  // monomials of degree t − 1
        if g >= 1 {
            for t in 1...g {
                for p in levelStart..<levelEnd {
                    for j in lastVar[p]..<d {
                        // Exponent of x_j in the child: one more than in the parent if j is its last variable.
                        let count = (t > 1 && j == lastVar[p]) ? lastCount[p] + 1 : 1
                        parent.append(p)
                        variable.append(j)
                        deg.append(t)
                        multi.append(multi[p] * Double(t) / Double(count))
                        lastVar.append(j)
                        lastCount.append(count)
                    }
                }
                levelStart = levelEnd
                levelEnd = parent.count
            }
        }
        precondition(parent.count == r!, "monomial count \(parent.count) ≠ C(\(g + d), \(d))")
        self.variables = d
        self.degree = g
        self.parent = parent
        self.variable = variable
        self.totalDegree = deg
        self.multinomial = multi
    }
}
