import AttnCore

/// The rounding model of one certified gradient engine and the per-row error terms it implies
/// (Proofs/backward-error.md, "The certified engines"): the same chain of lemmas as the fused
/// kernel's a-priori bound, evaluated here independently of AttnKernels and with every step rounded
/// up (Lemma U of Proofs/float-certified-engine.md), so the radii are rigorous upper bounds.
///
/// - `u`: unit roundoff of the engine's arithmetic (2⁻⁵³ for the float engine, 2⁻ᵖ for MPFR);
/// - `eta`: relative error of its exp on the bulk (FloatExp's 54u; 2⁻ᵖ⁺¹ for MPFR's correctly rounded exp);
/// - `tauW`: an upper bound on a weight it sets to 0 (the float engine's tail: 2⁻¹⁰⁰⁰; MPFR: 0);
/// - `tau`: the absolute error of one operation on gradual underflow (2⁻¹⁰⁷⁴; MPFR: 0);
/// - `cs`: |ŝ − s| ≤ cs·s for the scale it uses; `c0`: the absolute score error from underflow.
struct GradientErrorModel: Sendable {
    let u: Double, eta: Double, tauW: Double, tau: Double, cs: Double, c0: Double
    /// d, d_v, n_k, and N = group·n_q: the leaf counts of the sums.
    let d: Int, dv: Int, nk: Int, bigN: Int

    typealias D = Directed

    /// γ_k for this engine's u, rounded up; +∞ once k·u ≥ 1/2.
    func gamma(_ k: Int) -> Double {
        let x = D.mul(Double(k), u)
        guard x < 0.5 else { return .infinity }
        return D.div(x, D.subDown(1, x))
    }

    /// The per-row terms: relative error of P (ε), its absolute floor (τ_P), dS's error (σ·P + ν) and
    /// size (Â·P + ν), the bound A on |dP|, and P̄ ≥ every P_ij. Nil when the premises fail (δ > 0.3).
    struct Row { let eps, tauP, sigma, aHat, nu, A, pMax: Double }

    /// - Parameters:
    ///   - M: an upper bound on s·‖q_i‖·max_j‖k_j‖ (≥ every |true score| of the row).
    ///   - n: the visible keys (≥ 1).
    ///   - A: an upper bound on max_j Σ_c |dO_ic|·|v_jc|.
    func row(M: Double, n: Int, A: Double) -> Row? {
        let gd = gamma(d + 1)
        let g = D.add(gd, D.mul(cs, D.add(1, gd)))
        let delta = D.add(D.add(D.mul(g, M), D.mul(D.mul(2, u), D.mul(M, D.add(1, g)))), c0)
        guard delta <= 0.3 else { return nil }  // also false for NaN
        let eDelta = D.add(1, D.add(delta, D.mul(delta, delta)))  // e^δ ≤ 1 + δ + δ² for δ ≤ 0.3
        let a = D.add(D.mul(D.add(delta, D.mul(delta, delta)), D.add(1, eta)), eta)  // e^δ(1 + η) − 1
        let gn = gamma(n), g2 = gamma(2)
        let lambda = D.add(
            D.add(a, D.mul(gn, D.add(1, a))), D.mul(D.mul(D.add(1, gn), D.mul(Double(n), tauW)), eDelta))
        guard lambda < 0.5 else { return nil }
        let oneMinusL = D.subDown(1, lambda)
        let eps = D.div(D.add(D.add(a, D.mul(g2, D.add(1, a))), lambda), oneMinusL)
        let tauP = D.div(D.mul(D.mul(tauW, eDelta), D.add(1, g2)), oneMinusL)
        let pi = D.add(D.mul(gamma(dv), A), D.mul(Double(dv), tau))
        let aPi = D.add(A, pi)
        let dD = D.add(
            D.add(
                D.add(D.mul(D.add(eps, D.mul(gamma(n + 2), D.add(1, eps))), aPi), pi),
                D.mul(D.mul(Double(n), tauP), aPi)),
            D.mul(Double(2 * n), tau))
        let dy = D.add(D.add(pi, dD), D.mul(u, D.add(D.add(D.mul(2, A), pi), dD)))
        let size = D.add(D.mul(2, A), dy)
        let sigma = D.add(D.mul(D.add(eps, D.mul(u, D.add(1, eps))), size), dy)
        let aHat = D.mul(D.mul(D.add(1, eps), D.add(1, u)), size)
        let nu = D.add(D.mul(D.mul(tauP, D.add(1, u)), size), tau)
        // P_ij ≤ e^{2M}/n: every true score of the row lies in [−M, M]; a lower bound on e^{−2M} from FloatExp.
        var pMax = 1.0
        let x = -D.mul(2, M)
        if x >= -FloatExp.tailThreshold {  // tailThreshold is the positive 700: x ∈ [−700, 0]
            let lower = D.mulDown(
                FloatExp.exp(x, path: FloatExp.machinePath), D.subDown(1, FloatExp.relativeErrorBound))
            pMax = min(1, D.div(1, D.mulDown(Double(n), lower)))
        }
        return Row(eps: eps, tauP: tauP, sigma: sigma, aHat: aHat, nu: nu, A: A, pMax: pMax)
    }

    /// The radius of dQ row i: s⁺[(σ + γ_{n_k}Â)K∞ + (1 + γ_{n_k})νK₁] + (c_s + u(1 + c_s))s⁺·2A·K∞ + (n_k + 2)τ.
    func dqRadius(_ r: Row, sPlus: Double, kInf: Double, kOne: Double) -> Double {
        let gk = gamma(nk)
        let main = D.add(D.mul(D.add(r.sigma, D.mul(gk, r.aHat)), kInf), D.mul(D.mul(D.add(1, gk), r.nu), kOne))
        let scaleTerm = D.mul(D.mul(D.add(cs, D.mul(u, D.add(1, cs))), sPlus), D.mul(D.mul(2, r.A), kInf))
        return D.add(D.add(D.mul(sPlus, main), scaleTerm), D.mul(Double(nk + 2), tau))
    }

    /// Row i's weight in the dK radius of column c (times |q_ic|, summed over i, times s⁺).
    func dkWeight(_ r: Row) -> Double {
        let gN = gamma(bigN)
        let inner = D.add(
            D.add(r.sigma, D.mul(gN, r.aHat)), D.mul(D.add(cs, D.mul(u, D.add(1, cs))), D.mul(2, r.A)))
        return D.add(D.mul(r.pMax, inner), D.mul(D.add(1, gN), r.nu))
    }

    /// Row i's weight in the dV radius of column c (times |dO_ic|, summed over i).
    func dvWeight(_ r: Row) -> Double {
        let gN = gamma(bigN)
        return D.add(D.mul(r.pMax, D.add(r.eps, D.mul(gN, D.add(1, r.eps)))), D.mul(D.add(1, gN), r.tauP))
    }

    /// The absolute underflow terms of dK and dV.
    var dkFloor: Double { D.mul(Double(2 * (bigN + 2)), tau) }
    var dvFloor: Double { D.mul(Double(bigN), tau) }
}
