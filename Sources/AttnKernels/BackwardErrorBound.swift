import AttnCore
import Foundation

/// Per-row a-priori error bounds of a backward kernel: |ĝ_rc − g_rc| ≤ bound_r for every column c
/// of each gradient, against the exact gradients of the inputs' exact values (`AttentionGradients`).
public struct GradientBounds: Sendable, Equatable {
    /// Per (flat query head, query row).
    public var dq: RowBounds
    /// Per (flat KV head, key row).
    public var dk: RowBounds
    /// Per (flat KV head, key row).
    public var dv: RowBounds

    /// Every bound times `factor` (the mutation check halves them).
    func scaled(by factor: Double) -> GradientBounds {
        func f(_ b: RowBounds) -> RowBounds {
            RowBounds(heads: b.heads, rows: b.rows, values: b.values.map { $0 * factor })
        }
        return GradientBounds(dq: f(dq), dk: f(dk), dv: f(dv))
    }
}

/// The a-priori forward-error bound of `FusedBackward` (Proofs/backward-error.md).
///
/// With u the unit roundoff of `T`, γ_k = ku/(1 − ku), η the vectorised exp's relative error,
/// τ the smallest subnormal, τ_w the exp's flush threshold (2⁻¹²⁵ or 2⁻¹⁰²¹), τ_f the forward's (2⁻¹²⁵ or 2⁻¹⁰²⁰),
/// s⁺ = s(1 + c_s)(1 + u), and for query row i of flat head f (KV head h, n_i keys visible under the score
/// model's mask; n_f, T_f the keys and tiles of its forward pass, D_N, D_l, E that pass's depths and exps,
/// `SummationDepth.fused`; a the score underflow term, `ForwardErrorBound.scoreUnderflow`):
///
///     δ_i = g·M_i + a + 2u(M_i(1 + g) + a)      the exponent error of both passes (M_i = s⁺‖q_i‖max‖k_j‖)
///     λ_i = max(e^{δ}(1 + η)^E(1 + γ_{D_l}) − 1, 1 − e^{−δ}(1 − η)^E(1 − γ_{D_l})) + (n_f·τ_f + abs_l)·e^{δ}
///                                               the forward's l̂ against l (abs_l = 2(D_l + T_f + 4)τ)
///     a_i = e^{δ_i}(1 + η) − 1,   ε_i = (1 + a_i)(1 + γ₂)/(1 − λ_i) − 1,   τ_P = τ_w·e^{δ_i}(1 + γ₂)/(1 − λ_i)
///                                           so |P̂_ij − P_ij| ≤ ε_i·P_ij + τ_P
///     A_i = min(‖dO_i‖₂·max‖v_j‖₂, ‖dO_i‖₁·max|v|) ≥ |dP_ij|,   π_i = γ_{d_v}·A_i + d_v·τ
///     W_i = 2·tanh((2δ_i + E·ln((1 + η)/(1 − η)))/4) + 2n_f·τ_f·e^{δ_i}
///     e_i = (γ_{D_N} + γ_{d_v}(1 + γ_{D_N}))A_i + 3((1 + γ_{d_v})‖dO_i‖₁·abs_N + d_v·τ),  abs_N = 2(D_N + T_f + 4)τ
///     ΔD_i = W_i·A_i + e_i + (A_i + e_i)((1 + u)²/(1 − γ_{D_l} − 3abs_l) − 1) + τ     (D̂ from the forward's N̂, l̂)
///     Δy_i = π_i + ΔD_i + u(2A_i + π_i + ΔD_i)
///     σ_i = (ε_i + u(1 + ε_i))(2A_i + Δy_i) + Δy_i,   Â_i = (1 + ε_i)(1 + u)(2A_i + Δy_i)
///     ν_i = τ_P(1 + u)(2A_i + Δy_i) + τ        so |dŜ_ij − dS_ij| ≤ σ_i·P_ij + ν_i, |dŜ_ij| ≤ Â_i·P_ij + ν_i
///
///     dQ_i:  s⁺·[(σ_i + γ_{n_k}·Â_i)·K∞ + (1 + γ_{n_k})·ν_i·K₁] + (c_s + u(1 + c_s))·s⁺·2A_i·K∞ + (n_k + 2)τ
///     dK_j:  max_c s⁺·Σ_{f,i}[P̄_i(σ_i + γ_N·Â_i + (c_s + u(1 + c_s))·2A_i) + (1 + γ_N)ν_i]·|q_ic| + 2(N + 2)τ
///     dV_j:  max_c Σ_{f,i}[P̄_i(ε_i + γ_N(1 + ε_i)) + (1 + γ_N)τ_P]·|dO_ic| + Nτ
///
/// where P̄_i = min(1, e^{2M_i}/n_i) ≥ P_ij (every true score of row i lies in [−M_i, M_i]), K∞ = max|k|, K₁ = max_c Σ_j|k_jc| over the KV head, and N = group·n_q counts the query rows
/// whose products a dK or dV entry sums (any order: the bounds hold for any BLAS). Rows with
/// δ_i > 0.3, λ_i > ¼ or a possible overflow (`ForwardErrorBound.mayOverflow`, 4(n_f + d_v)A_i ≥ the
/// greatest finite value) get +∞ in every bound they enter.
///
/// Tests: `BackwardTests` (fused vs reference within the bound, every mask, GQA),
/// `BackwardTightnessTests` (the dV staircase reaches > 0.5 of the bound); mutation row `backward`.
public enum BackwardErrorBound {
    /// The bound of `FusedBackward.compute` in precision `T`.
    public static func fused<T: KernelScalar>(
        _ problem: AttentionTensors<T>, dO: Tensor<T>, scale: Scale, scoreModel: ScoreModel = .plain,
        as: T.Type = T.self
    ) -> GradientBounds {
        let sh = problem.shape, mask = BackwardMask(scoreModel, sh)
        let (nq, nk, d, dv) = (sh.nq, sh.nk, sh.d, sh.dv)
        let u = T.unitRoundoff, eta = T.expRelativeError, tau = Double(T.leastNonzeroMagnitude)
        let bigF = Double(T.greatestFiniteMagnitude)
        // Pass 2's exp flushes below τ_w (§1); the forward's flushed weights are below τ_f (online-softmax-error.md §3).
        let tauW = T.self == Float.self ? 0x1p-125 : 0x1p-1021
        let tauF = T.self == Float.self ? 0x1p-125 : 0x1p-1020
        let sv = scale.value(d: d)
        let cs = Scale.relativeError(unitRoundoff: u, leastNonzeroMagnitude: tau, value: sv)
        let s = Scale.upperBound(value: sv, unitRoundoff: u, leastNonzeroMagnitude: tau)
        let sPlus = s * (1 + cs) * (1 + u)
        func gamma(_ n: Int) -> Double { Rounding.gamma(n, unitRoundoff: u) }
        let g = gamma(d + 1) + cs * (1 + gamma(d + 1))
        let gamma2 = gamma(2), bigN = sh.group * nq
        let expPair = log1p(2 * eta / (1 - eta))  // ln((1 + η)/(1 − η))
        let norm = 1 + 1e-15 * Double(max(d, dv) + 2)  // the Double norms are themselves rounded
        // The forward pass's tiles (`FastAttention.statistics`: the fused kernel, one key range) and depths per (n, T).
        let forwardTiles = TileSizes(
            queryTile: TileSizes.default.balanced(queries: nq, heads: sh.flatHeads).queryTile,
            keyTile: FastAttention.keyTile)
        let lanes = T.self == Float.self ? SummationDepth.fusedFloatLanes : SummationDepth.fusedDoubleLanes
        var depths: [Int: SummationDepth] = [:]
        let kvHeads = sh.batch * sh.headsKV
        var dqB = [Double](repeating: 0, count: sh.flatHeads * nq)
        var dkB = [Double](repeating: 0, count: kvHeads * nk), dvB = dkB
        for h in 0..<kvHeads {
            var kNorm = 0.0, kInf = 0.0, vNorm = 0.0, vInf = 0.0
            var k1 = [Double](repeating: 0, count: d)
            for j in 0..<nk {
                var s2 = 0.0, v2 = 0.0
                for c in 0..<d {
                    let x = Double(problem.k[h, j, c]); s2 += x * x; kInf = max(kInf, abs(x)); k1[c] += abs(x)
                }
                for c in 0..<dv { let x = Double(problem.v[h, j, c]); v2 += x * x; vInf = max(vInf, abs(x)) }
                kNorm = max(kNorm, s2.squareRoot() * norm); vNorm = max(vNorm, v2.squareRoot() * norm)
            }
            let aScore = ForwardErrorBound.scoreUnderflow(
                d: d, keyNorm: kNorm, scaleUpper: s, leastNonzero: tau, unitRoundoff: u)
            let kOne = (k1.max() ?? 0) * (1 + 1e-15 * Double(nk))
            var dkCol = [Double](repeating: 0, count: d), dvCol = [Double](repeating: 0, count: dv)
            for f in h * sh.group..<(h + 1) * sh.group {
                for i in 0..<nq {
                    let n = mask.count(head: f, row: i)
                    var q2 = 0.0, o2 = 0.0, o1 = 0.0
                    for c in 0..<d { let x = Double(problem.q[f, i, c]); q2 += x * x }
                    for c in 0..<dv { let x = Double(dO[f, i, c]); o2 += x * x; o1 += abs(x) }
                    if n == 0 { continue }  // no key: exact zeros everywhere
                    let M = s * q2.squareRoot() * norm * kNorm
                    // Both passes' exponents: scores within g·M + a of exact (either scaling), shifts telescoping.
                    let delta = g * M + aScore + 2 * u * (M * (1 + g) + aScore)
                    // The forward's l̂ (its weights, E exps each, depth D_l) against l = Σ exp(x_j − m̂) ≥ e^{−δ}.
                    let (nf, tf) = ForwardErrorBound.processed(
                        row: i, nq: nq, nk: nk, mask: scoreModel.mask, tiles: forwardTiles)
                    let depth =
                        depths[nf << 20 | tf]
                        ?? SummationDepth.fused(
                            keys: nf, tiles: tf, keyTile: FastAttention.keyTile, splits: 1, lanes: lanes)
                    depths[nf << 20 | tf] = depth
                    let (gN, gL) = (gamma(depth.numerator), gamma(depth.denominator))
                    let expE = Double(depth.exps) * log1p(eta)  // ln (1 + η)^E
                    let high = exp(delta + expE) * (1 + gL)
                    let low = exp(-delta + Double(depth.exps) * log1p(-eta)) * (1 - gL)
                    let absN = 2 * Double(depth.numerator + tf + 4) * tau,
                        absL = 2 * Double(depth.denominator + tf + 4) * tau
                    let lambda = max(high - 1, 1 - low) + (Double(nf) * tauF + absL) * exp(delta)
                    let a = exp(delta) * (1 + eta) - 1  // pass 2's own weight
                    let overflows = ForwardErrorBound.mayOverflow(
                        queryNorm: q2.squareRoot() * norm, keyNorm: kNorm, scaleUpper: s,
                        scoreBound: M * (1 + g) + aScore, keys: nf, valueMax: vInf, normalised: false,
                        greatestFinite: bigF)
                    let A = min(o2.squareRoot() * norm * vNorm, o1 * (1 + 1e-15 * Double(dv)) * vInf)
                    guard delta <= 0.3, lambda <= 0.25, !overflows, 4 * Double(nf + dv) * A < bigF else {
                        dqB[f * nq + i] = .infinity
                        for c in 0..<d { dkCol[c] = .infinity }
                        for c in 0..<dv { dvCol[c] = .infinity }
                        continue
                    }
                    let eps = (1 + a) * (1 + gamma2) / (1 - lambda) - 1
                    let tauP = tauW * exp(delta) * (1 + gamma2) / (1 - lambda)
                    let pi = gamma(dv) * A + Double(dv) * tau
                    // D̂ = fl(fl(dO_i·N̂_i)·fl(1/l̂)) from the forward's numerator and denominator (§2).
                    let e =
                        (gN + gamma(dv) * (1 + gN)) * A + 3 * ((1 + gamma(dv)) * o1 * absN + Double(dv) * tau)
                    let weights =
                        2 * tanh((2 * delta + Double(depth.exps) * expPair) / 4) + 2 * Double(nf) * tauF * exp(delta)
                    let gLabs = gL + 3 * absL
                    let dD = weights * A + e + (A + e) * ((1 + u) * (1 + u) / (1 - gLabs) - 1) + tau
                    let dy = pi + dD + u * (2 * A + pi + dD)
                    let sigma = (eps + u * (1 + eps)) * (2 * A + dy) + dy
                    let aHat = (1 + eps) * (1 + u) * (2 * A + dy)
                    let nu = tauP * (1 + u) * (2 * A + dy) + tau
                    let scaleErr = cs + u * (1 + cs)
                    dqB[f * nq + i] =
                        sPlus * ((sigma + gamma(nk) * aHat) * kInf + (1 + gamma(nk)) * nu * kOne)
                        + scaleErr * sPlus * 2 * A * kInf + Double(nk + 2) * tau
                    // P_ij ≤ e^{2M_i}/n_i: every true score of the row lies in [−M_i, M_i].
                    let pMax = min(1, exp(2 * M) / Double(n) * (1 + 0x1p-50))
                    let perQ = pMax * (sigma + gamma(bigN) * aHat + scaleErr * 2 * A) + (1 + gamma(bigN)) * nu
                    for c in 0..<d { dkCol[c] += perQ * abs(Double(problem.q[f, i, c])) }
                    let perO = pMax * (eps + gamma(bigN) * (1 + eps)) + (1 + gamma(bigN)) * tauP
                    for c in 0..<dv { dvCol[c] += perO * abs(Double(dO[f, i, c])) }
                }
            }
            let dkRow = sPlus * (dkCol.max() ?? 0) + 2 * Double(bigN + 2) * tau
            let dvRow = (dvCol.max() ?? 0) + Double(bigN) * tau
            for j in 0..<nk {
                dkB[h * nk + j] = dkRow * (1 + 0x1p-40)
                dvB[h * nk + j] = dvRow * (1 + 0x1p-40)
            }
        }
        for x in dqB.indices { dqB[x] *= 1 + 0x1p-40 }
        let bounds = GradientBounds(
            dq: RowBounds(heads: sh.flatHeads, rows: nq, values: dqB),
            dk: RowBounds(heads: kvHeads, rows: nk, values: dkB), dv: RowBounds(heads: kvHeads, rows: nk, values: dvB))
        return bounds  // mutation-check: backward
    }
}
