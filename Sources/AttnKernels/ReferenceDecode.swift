import AttnCore
import Foundation

extension ReferenceAttention {
    /// The decode and a-posteriori variant of the yardstick: exact attention of one
    /// query over a set of tokens, recomputed in Double (as `ReferenceAttention.row`,
    /// the row max subtracted, sums left to right), with a rigorous enclosure of its
    /// own rounding error. Used twice by AttnPaged: by `SparseBound` on the selected
    /// tokens ("their exact contributions") and by `StepEvaluation` on every token
    /// (the yardstick of a step). It reads Float keys and values in place, in runs
    /// of consecutive tokens (pages), so no page is copied.
    ///
    /// Error bound (Proofs/paged-sparse-bound.md, Lemmas 2–3): with O the exact
    /// softmax average of the values (real arithmetic, scale s or the exact s* it stands
    /// for, |s − s*| ≤ 2u·s*: `Scale.relativeError`), |output_c − O_c| ≤ error_c, and
    /// Σ_j exp(s·q·k_j − shift) ≥ massLowerBound. Tested by `AttnPagedTests.EvaluationTests`
    /// (against `ReferenceAttention.compute`) and `SparseBoundTests`.
    package struct Decode: Sendable {
        /// Ō, `dv` entries.
        package let output: [Double]
        /// Per column: a bound on |Ō_c − O_c|.
        package let error: [Double]
        /// m: the computed max of the scaled scores (any number serves as the shift).
        package let shift: Double
        /// B ≤ Σ_j exp(s·q·k_j − m), exactly.
        package let massLowerBound: Double
        package let count: Int

        package static let u = 0x1p-53
        package static func gamma(_ n: Int) -> Double { Rounding.gamma(n, unitRoundoff: u) }
        /// An absolute allowance for results in Double's subnormal range, where relative bounds fail.
        package static let tiny = 0x1p-1000
    }

    /// - Parameters:
    ///   - query: `d` entries (Float values widened, so products with Float keys are exact).
    ///   - blocks: runs of consecutive tokens: `rows` keys (`d` columns) and values (`dv` columns).
    /// - Precondition: at least one token.
    package static func decode(
        query q: [Double], s: Double, d: Int, dv: Int,
        blocks: [(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, rows: Int)]
    ) -> Decode {
        let u = Decode.u, tiny = Decode.tiny
        func gamma(_ n: Int) -> Double { Decode.gamma(n) }
        // Scores t_j = s·q·k_j; |t_j − s*·q·k_j| ≤ γ_{d+3}·s·Σ_c|q_c k_jc| (dot, product with s, s vs s*).
        var t: [Double] = [], err: [Double] = []
        for b in blocks {
            for j in 0..<b.rows {
                var dot = 0.0, abs1 = 0.0
                let k = b.keys + j * d
                for c in 0..<d { let x = q[c] * Double(k[c]); dot += x; abs1 += abs(x) }
                t.append(s * dot)
                err.append(gamma(d + 3) * s * abs1)
            }
        }
        let n = t.count
        precondition(n > 0)
        let m = t.max()!
        var Z = 0.0, delta = 0.0, i = 0
        var N = [Double](repeating: 0, count: dv)
        var lo = [Double](repeating: .infinity, count: dv), hi = [Double](repeating: -.infinity, count: dv)
        for b in blocks {
            for j in 0..<b.rows {
                let x = t[i] - m
                let w = exp(x)
                delta = max(delta, err[i] + 2 * u * abs(x))
                Z += w
                let v = b.values + j * dv
                for c in 0..<dv {
                    let vc = Double(v[c])
                    N[c] += w * vc
                    lo[c] = min(lo[c], vc); hi[c] = max(hi[c], vc)
                }
                i += 1
            }
        }
        delta += 3 * u  // exp's relative error 2u, as a log-space perturbation
        let spread = expm1(2 * delta)
        var out = [Double](repeating: 0, count: dv), e = [Double](repeating: 0, count: dv)
        for c in 0..<dv {
            out[c] = N[c] / Z
            let absMax = max(abs(lo[c]), abs(hi[c]))
            // Lemma 2; the factor 2 covers the rounding of evaluating this expression.
            e[c] = 2 * (spread * (hi[c] - lo[c]) + (2 * gamma(n + 1) + 2 * u) * absMax + Double(n) * tiny * absMax)
        }
        let B = max(0, Z * exp(-delta) / (1 + gamma(n)) * (1 - 8 * u) - Double(n) * tiny)
        return Decode(output: out, error: e, shift: m, massLowerBound: B, count: n)
    }
}
