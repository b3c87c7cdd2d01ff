import AttnCore
import Foundation

/// What the sweep needs from the polynomial method, and nothing more.
///
/// The experiments are written against this protocol so that they never
/// depend on how the degree is certified or how the features are built.
/// `AttnPolyBackend` (AttnPoly's certified implementation) is the one the CLI
/// uses; tests may pass any other conforming value. Ranks come from
/// `PolyRank` (r = C(g+d, d)), whatever the backend.
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
    func attention(
        q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>,
        degree: Int, radius: Double
    ) throws -> (output: Tensor<Double>, bound: Double)
}
