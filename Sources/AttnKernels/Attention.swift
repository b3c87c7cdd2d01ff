import AttnCore

/// The exact-attention kernels by name (the CLI's `--kernel`).
public enum AttentionKernel: String, Sendable, CaseIterable {
    /// `ReferenceAttention`: Float64, O(n²) memory, obviously correct.
    case reference
    /// `FastAttention`: tiled online softmax with BLAS.
    case fast
}

/// One entry point over both kernels: computes `Att(Q,K,V) = D⁻¹AV` with
/// `A = exp(s·QKᵀ)` in precision `T`.
///
/// The reference kernel computes in Float64 whatever `T` is, then rounds once.
public func attention<T: KernelScalar>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
                                       causal: Bool = false, kernel: AttentionKernel = .fast) throws -> Tensor<T> {
    switch kernel {
    case .reference:
        return try ReferenceAttention.compute(q: q, k: k, v: v, scale: scale, causal: causal).converted(to: T.self)
    case .fast:
        return try FastAttention.compute(q: q, k: k, v: v, scale: scale, causal: causal)
    }
}
