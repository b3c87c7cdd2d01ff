import AttnCore

/// Q, K, V of one attention layer at one denoising step.
public struct AttentionStep<T: AttnScalar>: Sendable {
    public var q: Tensor<T>
    public var k: Tensor<T>
    public var v: Tensor<T>
    public init(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>) { self.q = q; self.k = k; self.v = v }
}

/// A sequence of denoising steps, read one at a time.
public protocol TrajectorySource {
    associatedtype Scalar: AttnScalar
    /// Number of steps T.
    var steps: Int { get }
    /// The next step, or nil after the last.
    mutating func next() throws -> AttentionStep<Scalar>?
}
