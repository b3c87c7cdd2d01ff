import AttnCore

/// What every row of one head shares: Q, K, V as exact integer matrices.
/// Immutable once built, read by every worker.
final class PreparedHead: @unchecked Sendable {
    let q: IntegerMatrix
    let k: IntegerMatrix
    let v: IntegerMatrix
    /// ⟨q_i, k_j⟩ = D_ij · 2^scoreExponent with D_ij an integer.
    let scoreExponent: Int
    /// Whether every D_ij (and every D_ij − max_j D_ij) fits in Int128.
    let dotsFitInt128: Bool

    init(q: IntegerMatrix, k: IntegerMatrix, v: IntegerMatrix) {
        self.q = q
        self.k = k
        self.v = v
        scoreExponent = q.exponent + k.exponent
        // |D| ≤ d·2^(bq+bk), and a difference of two such needs one bit more.
        let dBits = Int.bitWidth - (q.cols).leadingZeroBitCount
        dotsFitInt128 = q.small != nil && k.small != nil && q.maxBits + k.maxBits + dBits + 1 <= 126
    }
}

/// Fixed parameters of one certified computation.
struct EnclosurePlan: Sendable {
    /// Output precision p (bits).
    let precision: Int
    /// Weights are carried as integers W with w = W·2^-weightBits.
    var weightBits: Int { precision + 8 }
    /// Precision of the score and exp enclosures.
    var workingPrecision: Int { precision + 32 }
    /// exp(x) < 2^-(weightBits+2) once x < −(weightBits + 2) (as e > 2): such weights are [0, 1 unit].
    var cutoff: Int { weightBits + 2 }
    /// How exp is evaluated.
    var method: CertifiedExpMethod = .tables
    /// Limbs L of the table-driven exp: 64L ≥ weightBits + 16.
    var tableLimbs: Int { (weightBits + 16 + 63) / 64 }
}
