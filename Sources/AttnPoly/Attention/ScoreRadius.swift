import AttnCore
import Foundation

/// The half-width R of an interval that holds every score s·⟨q_i, k_j⟩.
public enum ScoreRadius {
    /// s·max_i‖q_i‖₂·max_j‖k_j‖₂ (Cauchy–Schwarz), rounded up.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func measured<T: AttnScalar>(
        q: UnsafeBufferPointer<T>, k: UnsafeBufferPointer<T>,
        nq: Int, nk: Int, d: Int, scale s: Double
    ) -> Double {
        let r = s * maxRowNorm(q, rows: nq, cols: d) * maxRowNorm(k, rows: nk, cols: d)
        return r == 0 ? 0 : (r * (1 + 1e-15)).nextUp
    }

    /// The a-priori radius s·d·B² for entries in [−B, B].
    public static func fromEntryBound(_ B: Double, d: Int, scale s: Double) -> Double {
        let r = s * Double(d) * B * B
        return r == 0 ? 0 : (r * (1 + 1e-15)).nextUp
    }

    /// max_i ‖x_i‖₂, rounded up (the Double sum of squares is itself rounded:
    /// relative error ≤ γ_{d+2}, covered by the factor).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func maxRowNorm<T: AttnScalar>(_ x: UnsafeBufferPointer<T>, rows: Int, cols: Int) -> Double {
        var best = 0.0, anyNonzero = false
        for i in 0..<rows {
            var s2 = 0.0
            for c in 0..<cols {
                let y = Double(x[i * cols + c])
                if y != 0 { anyNonzero = true }
                s2 += y * y
            }
            best = max(best, s2.squareRoot())
        }
        guard anyNonzero else { return 0 }
        // Squares below 2⁻¹⁰²² lose absolute accuracy: add √(cols)·2⁻⁵¹¹ to cover them.
        return best * (1 + 1e-15 * Double(cols + 4)) + Double(cols).squareRoot() * 0x1p-510
    }
}
