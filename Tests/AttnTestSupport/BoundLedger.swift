import Foundation

/// The bounds whose tightness the suite tracks (issue 11: a bound the tests never approach is untested).
public enum TrackedBound: String, CaseIterable, Sendable {
    case fastKernelFloat = "ForwardErrorBound.fastAttention (fused kernel, Float32)"
    case fastKernelDouble = "ForwardErrorBound.fastAttention (fused kernel, Float64)"
    case referenceKernel = "ForwardErrorBound.reference"
    case certifiedWidth = "certified enclosure width"
    case polynomialApriori = "PolyErrorBound (a priori)"
    case pagedAposteriori = "SparseBound (paged, a posteriori)"
    case blockSparse = "block-sparse (ForwardErrorBound.tiled on the restricted problem)"
    case accumulator = "ForwardErrorBound.fast (OnlineSoftmaxAccumulator, the paged accumulator path)"
    case floatEngine = "FloatAttentionEngine.entryBound (float verify radius e)"
    case gradientPoly = "GradientErrorBound (polynomial method for dL/dX, a priori)"
    case lossGradient = "LossGradient.bounds (exact dL/dX in Float64)"
    case floatGradientEngine = "FloatGradientEngine radii (certified dQ, dK, dV)"
}

/// Records the largest observed error/bound per bound, process-wide.
///
/// Property tests call `within(_:error:bound:)` in place of `error <= bound`; the tightness
/// regression tests read `worst(_:)` of the cases they ran themselves (so no test depends on
/// another test having run first).
public final class BoundLedger: @unchecked Sendable {
    public static let shared = BoundLedger()
    private var worstRatio: [TrackedBound: Double] = [:]
    private let lock = NSLock()

    public init() {}

    /// True when `error ≤ bound`; records error/bound (0/0 counts as 0).
    @discardableResult
    public func within(_ bound: TrackedBound, error: Double, bound b: Double) -> Bool {
        let ratio = b > 0 ? error / b : (error == 0 ? 0 : .infinity)
        lock.lock(); defer { lock.unlock() }
        if ratio.isNaN {
            worstRatio[bound] = .nan
        } else {
            worstRatio[bound] = Swift.max(worstRatio[bound] ?? 0, ratio)
        }
        return error <= b
    }

    public func worst(_ bound: TrackedBound) -> Double {
        lock.lock(); defer { lock.unlock() }
        return worstRatio[bound] ?? 0
    }

    /// One line per bound, for logs.
    public var summary: String {
        lock.lock(); defer { lock.unlock() }
        return TrackedBound.allCases.map { "\($0.rawValue): \(worstRatio[$0].map { "\($0)" } ?? "not reached")" }
            .joined(separator: "\n")
    }
}

/// The ratio every tracked bound must reach somewhere in the suite.
public let requiredTightness = 0.25
