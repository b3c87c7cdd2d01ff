import AttnCore
import Foundation

extension SweepMeasurer {
    /// The polynomial method at a fixed rank budget r ≤ n^γ: max|T − Att| over
    /// the checked rows (all rows when n ≤ `sampleRows`, else a seeded sample;
    /// each exact row costs O(n·d)). `bound` is the backend's a-priori bound.
    func errorVsB(_ p: SweepPoint) throws -> SweepRow {
        var rng = Xoshiro256StarStar(seed: p.seed)
        let dv = p.d
        let (q, k, v) = inputs(p, dv: dv, rng: &rng)
        let (g, r) = budgetDegree(n: p.n, d: p.d)
        let (t, bound) = try backend.attention(q: q, k: k, v: v, degree: g, radius: p.radius)
        let rows = ExactRows.sample(configuration.sampleRows, of: p.n, using: &rng)
        var err = 0.0
        for i in rows {
            let exact = ExactRows.row(i, q: q, k: k, v: v, scale: 1 / Double(p.d))
            for c in 0..<dv {
                let e = abs(t.storage[i * dv + c] - exact[c])
                // A NaN (the approximation broke down) is reported as an infinite error.
                err = e.isNaN ? .infinity : Swift.max(err, e)
            }
        }
        return SweepRow(
            method: backend.name, degree: g, rank: Double(r),
            exponent: Self.costExponent(n: p.n, d: p.d, logRank: log(Double(r))),
            rows: rows.count, error: err, bound: bound)
    }
}
