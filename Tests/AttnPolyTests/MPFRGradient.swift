import AttnCertified
import AttnPoly
import Foundation

/// dL/dX of `GradientProblem`'s loss evaluated in MPFR at 256 bits: the second, independent way the
/// tests compute the gradient (tiny n only: O(n²d) MPFR operations).
///
/// Enclosure: every operation is correctly rounded to nearest at 256 bits (u = 2⁻²⁵⁶) and MPFR's exp
/// likewise, so by the argument of Proofs/gradient-polynomial-method.md §5 with u = 2⁻²⁵⁶ the result is
/// within ((1 + γ_K)(1 + 2u)³ − 1)·Ḡ of dL/dX, K = 8n + 4d + 32. `radius` takes Ḡ ≤ the crude
/// majorant (2/d)·max|A₂|·Σ_j|A₁_j|·(d·h̄ + ‖E‖∞)·d·h̄ and multiplies by 2⁻²⁰⁰ (≫ that factor).
struct MPFRGradient {
    let gradient: [Double]
    let radius: Double

    init(_ p: GradientProblem) {
        let bits = 256, (n, d) = (p.n, p.d)
        func v(_ x: Double) -> MPFRFloat { MPFRFloat(x, precision: bits) }
        func zero() -> MPFRFloat { MPFRFloat(0, precision: bits) }
        func mul(_ a: MPFRFloat, _ b: MPFRFloat) -> MPFRFloat {
            let r = zero(); _ = r.mul(a, b, rounding: .nearest); return r
        }
        func add(_ a: MPFRFloat, _ b: MPFRFloat) -> MPFRFloat {
            let r = zero(); _ = r.add(a, b, rounding: .nearest); return r
        }
        func sub(_ a: MPFRFloat, _ b: MPFRFloat) -> MPFRFloat {
            let r = zero(); _ = r.sub(a, b, rounding: .nearest); return r
        }
        func div(_ a: MPFRFloat, _ b: MPFRFloat) -> MPFRFloat {
            let r = zero(); _ = r.div(a, b, rounding: .nearest); return r
        }
        func matmul(_ a: [Double], _ b: [Double]) -> [MPFRFloat] {
            (0..<(n * d)).map { idx in
                let (i, c) = (idx / d, idx % d)
                var s = zero()
                for e in 0..<d { s = add(s, mul(v(a[i * d + e]), v(b[e * d + c]))) }
                return s
            }
        }
        let q = matmul(p.a1, p.x), h = matmul(p.a3, p.y)
        let invD = div(v(1), v(Double(d)))
        var g = [MPFRFloat]((0..<(d * d)).map { _ in zero() })
        for j in 0..<n {
            // f_j = softmax(s·⟨q_j, a2_l⟩), exactly as the loss defines it.
            var ex: [MPFRFloat] = []
            var sum = zero()
            for l in 0..<n {
                var t = zero()
                for c in 0..<d { t = add(t, mul(q[j * d + c], v(p.a2[l * d + c]))) }
                let e = zero()
                _ = e.exp(mul(t, invD), rounding: .nearest)
                ex.append(e)
                sum = add(sum, e)
            }
            let f = ex.map { div($0, sum) }
            var w = [MPFRFloat](), c = [MPFRFloat]()
            for b in 0..<d {
                var t = zero()
                for l in 0..<n { t = add(t, mul(f[l], h[l * d + b])) }
                w.append(t)
                c.append(sub(t, v(p.e[j * d + b])))
            }
            var r = zero()
            for b in 0..<d { r = add(r, mul(c[b], w[b])) }
            for l in 0..<n {
                var ql = zero()
                for b in 0..<d { ql = add(ql, mul(c[b], h[l * d + b])) }
                let pjl = mul(f[l], sub(ql, r))
                for a in 0..<d {
                    let left = mul(v(p.a1[j * d + a]), pjl)
                    for b in 0..<d { g[a * d + b] = add(g[a * d + b], mul(left, v(p.a2[l * d + b]))) }
                }
            }
        }
        gradient = g.map { mul($0, invD).double(rounding: .nearest) }
        func big(_ x: [Double]) -> Double { x.reduce(0) { max($0, abs($1)) } }
        let hBar = big(p.a3) * big(p.y) * Double(d)
        var colSum = 0.0
        for a in 0..<d { colSum = max(colSum, (0..<n).reduce(0.0) { $0 + abs(p.a1[$1 * d + a]) }) }
        let crude = 2 / Double(d) * big(p.a2) * colSum * (hBar + big(p.e)) * hBar
        // Rounding the 256-bit result to a double adds half an ulp of it.
        radius = crude * 0x1p-200 + gradient.reduce(0) { max($0, abs($1)) } * 0x1p-52 + 0x1p-1074
    }

    /// Certified bounds on max_ab |candidate_ab − dL/dX_ab|: (lower, upper).
    func error(of candidate: [Double]) -> (lower: Double, upper: Double) {
        var worst = 0.0
        for i in candidate.indices { worst = max(worst, abs(candidate[i] - gradient[i])) }
        if candidate.contains(where: { $0.isNaN }) { return (.infinity, .infinity) }
        return (max(0, worst * (1 - 0x1p-50) - radius), worst * (1 + 0x1p-50) + radius)
    }
}
