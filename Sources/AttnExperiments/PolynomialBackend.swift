import AttnCore
import Foundation

/// What the sweep needs from the polynomial method, and nothing more.
///
/// The experiments are written against this protocol so that they never
/// depend on how the degree is certified or how the features are built.
/// `AttnPolyBackend` (AttnPoly's certified implementation) is the one the CLI
/// uses; tests may pass any other conforming value.
///
/// Conventions (Alman–Song): scores are `s·⟨q, k⟩` with the paper's scale
/// `s = 1/d`, so with entries in [−B, B] every score lies in [−R, R], R = B².
public protocol PolynomialBackend: Sendable {
    /// A short name written to the CSV `method` column and to the sidecar.
    var name: String { get }

    /// The smallest degree g whose *certified* sup relative error on [−R, R]
    /// is ≤ ε, with that certified bound; nil if no g ≤ `maxDegree` suffices.
    func certifiedDegree(radius: Double, epsilon: Double, maxDegree: Int) throws -> (degree: Int, bound: Double)?

    /// A certified bound on the sup relative error of the degree-g
    /// approximation on [−R, R] (may be ≥ 1: then it certifies nothing).
    func relativeErrorBound(radius: Double, degree: Int) throws -> Double

    /// Low-rank attention `T = D̃⁻¹ U₁(U₂ᵀV)` with the degree-g approximation
    /// on [−R, R] and scale 1/d, one head; returns T (n_q × d_v) in Float64 and
    /// the a-priori bound on max|T − Att| it certifies (inf if none).
    ///
    /// Precondition: every score `⟨q_i, k_j⟩/d` lies in [−R, R].
    func attention(q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>,
                   degree: Int, radius: Double) throws -> (output: Tensor<Double>, bound: Double)
}

/// Monomials of total degree ≤ g in d variables: r = C(g+d, d).
public enum MonomialCount {
    /// ln C(g+d, d), exact to rounding for any size (via lgamma).
    public static func logRank(d: Int, degree g: Int) -> Double {
        lgamma(Double(g + d + 1)) - lgamma(Double(g + 1)) - lgamma(Double(d + 1))
    }

    /// C(g+d, d) exactly when it fits in Int, else nil.
    public static func rank(d: Int, degree g: Int) -> Int? {
        var r = 1
        // C(d+t, t) = C(d+t-1, t-1)·(d+t)/t, exact at every step.
        for t in stride(from: 1, through: g, by: 1) {
            let (p, o) = r.multipliedReportingOverflow(by: d + t)
            if o { return nil }
            r = p / t
        }
        return r
    }

    /// The largest g with C(g+d, d) ≤ budget (0 if even g = 1 does not fit;
    /// g = 0 has rank 1, which every budget ≥ 1 admits).
    public static func largestDegree(d: Int, rankBudget: Double, cap: Int = 64) -> Int {
        var g = 0
        while g < cap, let r = rank(d: d, degree: g + 1), Double(r) <= rankBudget { g += 1 }
        return g
    }
}
