import AttnCore
import AttnPoly
import Foundation

/// The sweep's polynomial method: AttnPoly's certified degrees and
/// `PolyAttention` for one `ExpFamily`.
///
/// - certified degree: `CertifiedExpBound.certifiedDegree` (interval-arithmetic
///   bound on the sup relative error of eˣ's approximation on [−R, R]);
/// - attention: `PolyAttention.compute` with the paper's scale 1/d, a fixed
///   radius R and a fixed degree; its a-priori bound (`PolyErrorBound`,
///   approximation + rounding) is what the CSV `bound` column reports.
public struct AttnPolyBackend: PolynomialBackend {
    public let family: ExpFamily

    public init(family: ExpFamily = .chebyshev) { self.family = family }

    public var name: String { "poly-\(family.rawValue)" }

    public func certifiedDegree(radius R: Double, epsilon: Double, maxDegree: Int) throws -> (
        degree: Int, bound: Double
    )? {
        guard let g = CertifiedExpBound.certifiedDegree(R: R, epsilon: epsilon, family: family), g <= maxDegree else {
            return nil
        }
        return (g, CertifiedExpBound.relativeError(family, R: R, degree: g))
    }

    public func relativeErrorBound(radius R: Double, degree g: Int) throws -> Double {
        CertifiedExpBound.relativeError(family, R: R, degree: g)
    }

    public func attention(
        q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>,
        degree g: Int, radius R: Double
    ) throws -> (output: Tensor<Double>, bound: Double) {
        let r = try PolyAttention.compute(
            q: q, k: k, v: v, scale: .paper,
            options: PolyOptions(family: family, degree: .degree(g), radius: .fixed(R)))
        return (r.output, r.maxErrorBound)
    }
}
