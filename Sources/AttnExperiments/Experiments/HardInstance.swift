import AttnCore
import Foundation

/// The lower bound's reduction made concrete (Proofs/lower-bound-reduction.md).
///
/// n random ±1 queries U and n random ±1 keys W in d = ⌈C_hard·ln n⌉
/// dimensions, except that key j* is query i* with ⌊d/10⌋ signs flipped (the
/// planted close pair). Q = βU, K = β[W; 0] with n zero "dummy" keys, and
/// V = [0; 1] indicates the dummies, so the exact output is
/// out_i = n / (Σ_j exp(β²⟨u_i, w_j⟩/d) + n): the planted row has the
/// smallest output once its term exp(β²(1 − 2ρ)) stands out, ρ = Ham/d.
public struct HardInstance: Sendable {
    public let q: Tensor<Double>
    public let k: Tensor<Double>
    public let v: Tensor<Double>
    public let plantedQuery: Int
    public let plantedKey: Int
    public let hamming: Int

    /// - Parameters: beta: the scale β = c·√ln n.
    public init(n: Int, d: Int, beta: Double, rng: inout Xoshiro256StarStar) {
        func sign() -> Double { (rng.next() >> 63) == 0 ? 1 : -1 }
        var u = (0..<(n * d)).map { _ in sign() }
        var w = (0..<(n * d)).map { _ in sign() }
        let i = rng.below(n), j = rng.below(n)
        let h = d / 10
        for c in 0..<d { w[j * d + c] = u[i * d + c] }
        for c in ExactRows.sample(h, of: d, using: &rng) { w[j * d + c] = -w[j * d + c] }
        for x in 0..<(n * d) { u[x] *= beta; w[x] *= beta }
        q = Tensor(rows: n, cols: d, storage: u)
        k = Tensor(rows: 2 * n, cols: d, storage: w + [Double](repeating: 0, count: n * d))
        v = Tensor(rows: 2 * n, cols: 1, storage: [Double](repeating: 0, count: n) + [Double](repeating: 1, count: n))
        plantedQuery = i; plantedKey = j; hamming = h
    }

    /// Whether the planted row has the smallest output, and by how much:
    /// (smallest other output) − (planted output); positive iff revealed.
    public func reveal(_ out: [Double]) -> (revealed: Bool, margin: Double) {
        var other = Double.infinity
        for (i, o) in out.enumerated() where i != plantedQuery { other = Swift.min(other, o.isNaN ? .infinity : o) }
        let m = other - out[plantedQuery]
        return (m > 0, m.isNaN ? -.infinity : m)
    }
}

extension SweepMeasurer {
    /// The exact output reveals the planted pair when β² ≳ ln n; the
    /// polynomial method at the rank budget r ≤ n^γ must approximate
    /// exp on [−β², β²], which needs degree ≈ β² = c²·ln n.
    func hardInstance(_ p: SweepPoint) throws -> [SweepRow] {
        var rng = Xoshiro256StarStar(seed: p.seed)
        let inst = HardInstance(n: p.n, d: p.d, beta: p.B, rng: &rng)
        let s = 1 / Double(p.d)
        let exact = (0..<p.n).map { ExactRows.row($0, q: inst.q, k: inst.k, v: inst.v, scale: s)[0] }
        let (g, r) = budgetDegree(n: p.n, d: p.d)
        let (t, bound) = try backend.attention(q: inst.q, k: inst.k, v: inst.v, degree: g, radius: p.radius)
        var err = 0.0
        for i in 0..<p.n {
            let e = abs(t.storage[i] - exact[i])
            err = e.isNaN ? .infinity : Swift.max(err, e)
        }
        let ex = inst.reveal(exact), po = inst.reveal(t.storage)
        return [
            SweepRow(method: "exact", rows: p.n, revealed: ex.revealed, margin: ex.margin),
            SweepRow(
                method: backend.name, degree: g, rank: Double(r),
                exponent: Self.costExponent(n: p.n, d: p.d, logRank: log(Double(r))),
                rows: p.n, error: err, bound: bound, revealed: po.revealed, margin: po.margin),
        ]
    }
}
