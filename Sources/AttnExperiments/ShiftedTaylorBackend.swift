import AttnCore
import Foundation

/// A small, self-contained polynomial backend: the Taylor polynomial of the
/// shifted exponential, eˣ = e^{−R}·e^{x+R}, truncated at degree g.
///
/// It exists so the sweep machinery can be exercised without AttnPoly; the
/// CLI uses AttnPoly's certified backend.
///
/// Error bound: for y = x + R ∈ [0, 2R] the Taylor remainder of e^y lies in
/// [0, e^y·y^{g+1}/(g+1)!], so the relative error of the polynomial on
/// [−R, R] is at most η = (2R)^{g+1}/(g+1)!, one-sided (P ≤ eˣ). The bound is
/// evaluated in floating point with a relative safety factor 1 + 2⁻⁴⁰; it is
/// not an interval-arithmetic certificate.
public struct ShiftedTaylorBackend: PolynomialBackend {
    public init() {}
    public var name: String { "poly-taylor" }

    public func relativeErrorBound(radius R: Double, degree g: Int) -> Double {
        precondition(R >= 0 && g >= 0)
        if R == 0 { return 0 }
        // log of (2R)^{g+1}/(g+1)!, then exp: no overflow for large g.
        let l = Double(g + 1) * log(2 * R) - lgamma(Double(g + 2))
        return exp(l) * (1 + 0x1p-40)
    }

    public func certifiedDegree(radius R: Double, epsilon: Double, maxDegree: Int) -> (degree: Int, bound: Double)? {
        for g in 0...maxDegree {
            let b = relativeErrorBound(radius: R, degree: g)
            if b <= epsilon { return (g, b) }
        }
        return nil
    }

    /// Coefficients a_t of P(x) = Σ_t a_t xᵗ: a_t = e^{−R}/t! · Σ_{j ≤ g−t} Rʲ/j!,
    /// all positive, so Ã = U₁U₂ᵀ has positive entries and D̃ > 0.
    static func coefficients(radius R: Double, degree g: Int) -> [Double] {
        (0...g).map { t in
            var s = 0.0, term = 1.0
            for j in 0...(g - t) { if j > 0 { term *= R / Double(j) }; s += term }
            return exp(-R - lgamma(Double(t + 1))) * s
        }
    }

    public func attention(q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>,
                          degree g: Int, radius R: Double) throws -> (output: Tensor<Double>, bound: Double) {
        let d = q.cols, dv = v.cols
        let monomials = Monomials(d: d, degree: g)
        let a = Self.coefficients(radius: R, degree: g)
        let s = 1.0 / Double(d)
        let r = monomials.count
        // Query-side weights: a_t · sᵗ · multinomial(α).
        var weight = [Double](repeating: 0, count: r)
        for m in 0..<r {
            let t = monomials.degree[m]
            weight[m] = a[t] * pow(s, Double(t)) * monomials.multinomial[m]
        }
        // M = U₂ᵀ [V | 1]: r × (d_v + 1), accumulated key by key.
        var mat = [Double](repeating: 0, count: r * (dv + 1))
        var feat = [Double](repeating: 0, count: r)
        for j in 0..<k.rows {
            monomials.evaluate(k.storage, offset: j * d, into: &feat)
            for m in 0..<r {
                let f = feat[m]
                for c in 0..<dv { mat[m * (dv + 1) + c] += f * v.storage[j * dv + c] }
                mat[m * (dv + 1) + dv] += f
            }
        }
        var out = [Double](repeating: 0, count: q.rows * dv)
        for i in 0..<q.rows {
            monomials.evaluate(q.storage, offset: i * d, into: &feat)
            var row = [Double](repeating: 0, count: dv + 1)
            for m in 0..<r {
                let f = feat[m] * weight[m]
                for c in 0...dv { row[c] += f * mat[m * (dv + 1) + c] }
            }
            for c in 0..<dv { out[i * dv + c] = row[c] / row[dv] }
        }
        let eta = relativeErrorBound(radius: R, degree: g)
        let vmax = v.storage.reduce(0) { max($0, abs($1)) }
        let bound = eta < 1 ? 2 * eta / (1 - eta) * vmax : .infinity
        return (Tensor(rows: q.rows, cols: dv, storage: out), bound)
    }
}

/// Monomials xᵅ of total degree ≤ g in d variables, in graded order; each is
/// its parent times one variable, so evaluation costs one multiply apiece.
struct Monomials {
    let count: Int
    var degree: [Int] = [0]
    var multinomial: [Double] = [1]  // |α|! / ∏ αᵢ!
    var parent: [Int] = [-1]
    var variable: [Int] = [-1]
    var power: [Int] = [0]           // exponent of `variable` in α (after the multiply)

    init(d: Int, degree g: Int) {
        var levelStart = 0, levelEnd = 1
        var lastVar = [-1]
        for t in stride(from: 1, through: g, by: 1) {
            for p in levelStart..<levelEnd {
                for m in max(0, lastVar[p])..<d {
                    let pw = (lastVar[p] == m ? power[p] : 0) + 1
                    parent.append(p); variable.append(m); power.append(pw); lastVar.append(m)
                    degree.append(t)
                    multinomial.append(multinomial[p] * Double(t) / Double(pw))
                }
            }
            levelStart = levelEnd; levelEnd = parent.count
        }
        count = parent.count
    }

    func evaluate(_ x: [Double], offset: Int, into out: inout [Double]) {
        out[0] = 1
        for m in 1..<count { out[m] = out[parent[m]] * x[offset + variable[m]] }
    }
}
