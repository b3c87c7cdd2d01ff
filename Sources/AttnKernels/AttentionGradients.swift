import AttnCore

/// The gradients of attention O = softmax(s·QKᵀ)V with respect to Q, K and V, given the
/// upstream gradient dO = ∂L/∂O of some loss L (the backward pass):
///
///     P  = softmax(s·QKᵀ) over the visible keys (masked entries 0)
///     dV = Pᵀ·dO,   dP = dO·Vᵀ,   D_i = Σ_c dO_ic·O_ic = Σ_j P_ij·dP_ij
///     dS = P ∘ (dP − D·1ᵀ),   dQ = s·dS·K,   dK = s·dSᵀ·Q
///
/// Under GQA, dK and dV of a KV head are the sums over the query heads that share it (as PyTorch's
/// `enable_gqa=True` autograd returns them). A row that sees no key contributes nothing: its dQ row
/// is 0 and it adds 0 to dK and dV.
///
/// `dq` has Q's shape, `dk` K's and `dv` V's (leading axes kept).
public struct AttentionGradients<T: AttnScalar>: Sendable {
    public var dq: Tensor<T>
    public var dk: Tensor<T>
    public var dv: Tensor<T>

    public init(dq: Tensor<T>, dk: Tensor<T>, dv: Tensor<T>) {
        (self.dq, self.dk, self.dv) = (dq, dk, dv)
    }

    /// The three gradients rounded to `U` (each entry once).
    public func converted<U: AttnScalar>(to: U.Type = U.self) -> AttentionGradients<U> {
        AttentionGradients<U>(dq: dq.converted(to: U.self), dk: dk.converted(to: U.self), dv: dv.converted(to: U.self))
    }
}

/// The exact-attention backward kernels by name (as `AttentionKernel` for the forward).
public enum BackwardKernel: String, Sendable, CaseIterable {
    /// `ReferenceBackward`: Float64, the full weight matrix, every sum left to right.
    case reference
    /// `FusedBackward`: FlashAttention-2 order, P recomputed in tiles from the row statistics.
    case fused
}

/// The gradients of a problem as read from files (2-D to 4-D, GQA), in precision `T`.
/// - Parameters:
///   - dO: the upstream gradient, the output's shape (Q's leading axes × [n_q, d_v]).
///   - causal: bottom-right causal mask.
/// - Throws: `AttnError.usage` naming the input at fault (`.dO` for a gradient of the wrong shape or
///   with NaN/Inf), as `attention(_:scale:causal:kernel:)` otherwise.
public func attentionBackward<T: KernelScalar>(
    _ problem: AttentionTensors<T>, dO: Tensor<T>, scale: Scale, causal: Bool = false,
    kernel: BackwardKernel = .fused, threads: Int? = nil
) throws -> AttentionGradients<T> {
    switch kernel {
    case .reference:
        return try ReferenceBackward.compute(problem, dO: dO, scale: scale, causal: causal).converted(to: T.self)
    case .fused:
        return try FusedBackward.compute(problem, dO: dO, scale: scale, causal: causal, threads: threads)
    }
}

/// The checks every backward kernel makes on dO: the output's shape, finite entries.
func validateUpstreamGradient<T: AttnScalar>(_ dO: Tensor<T>, shape: AttentionShape, q: Tensor<T>) throws {
    guard dO.heads == shape.flatHeads, dO.rows == shape.nq, dO.cols == shape.dv,
        dO.batch == q.batch || dO.logicalRank < 4
    else {
        throw AttnError.usage(
            .dO, "shape \(dO.shape) does not match the output shape \(Array(q.shape.dropLast()) + [shape.dv])")
    }
    guard dO.isFinite else { throw AttnError.usage(.dO, "contains NaN or Inf") }
}

/// Keys visible to query row `i`: a prefix of the keys (none or causal, bottom-right aligned).
@inline(__always) func visibleKeys(row i: Int, queries nq: Int, keys nk: Int, causal: Bool) -> Int {
    causal ? max(0, min(nk, CausalMask.lastVisibleKey(row: i, queries: nq, keys: nk) + 1)) : nk
}

/// `attention --do`: the gradients of a problem read from files, written where asked. The one
/// library call behind the CLI (reading dO, computing, writing each file atomically).
public struct BackwardRequest: Sendable {
    /// `.npy` path of the upstream gradient dO (the output's shape; float16/32/64, widened exactly).
    public var upstream: String
    /// Where to write dQ (Q's shape), dK (K's) and dV (V's); nil: not written. At least one.
    public var dqOut: String?, dkOut: String?, dvOut: String?
    public var kernel: BackwardKernel = .fused

    public init(upstream: String, dqOut: String? = nil, dkOut: String? = nil, dvOut: String? = nil) {
        (self.upstream, self.dqOut, self.dkOut, self.dvOut) = (upstream, dqOut, dkOut, dvOut)
    }

    /// - Throws: `AttnError.usage` naming dO (unreadable, bad .npy, NaN/Inf, wrong shape) or the inputs.
    public func run<T: KernelScalar>(_ problem: AttentionTensors<T>, scale: Scale, causal: Bool) throws {
        try Parameter.dO.require(dqOut != nil || dkOut != nil || dvOut != nil, "give at least one gradient output")
        let dO: Tensor<T>
        do { dO = try Npy.read(upstream) } catch let e as AttnError {
            throw AttnError.usage(.dO, "\(upstream): \(e.message)")
        }
        let g: AttentionGradients<T>
        do {
            g = try attentionBackward(problem, dO: dO, scale: scale, causal: causal, kernel: kernel)
        } catch let e as AttnError where e.parameter == .dO { throw AttnError.usage(.dO, "\(upstream): \(e.message)") }
        for (t, path) in [(g.dq, dqOut), (g.dk, dkOut), (g.dv, dvOut)] { if let path { try Npy.write(t, to: path) } }
    }
}
