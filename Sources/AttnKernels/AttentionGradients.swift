import AttnCore
import Foundation

/// The gradients of attention O = softmax(s·QKᵀ)V with respect to Q, K and V, given the
/// upstream gradient dO = ∂L/∂O of some loss L (the backward pass):
///
///     P  = softmax(s·QKᵀ) over the visible keys (masked entries 0)
///     dV = Pᵀ·dO,   dP = dO·Vᵀ,   D_i = Σ_c dO_ic·O_ic = Σ_j P_ij·dP_ij
///     dS = P ∘ (dP − D·1ᵀ),   dQ = s·dS·K,   dK = s·dSᵀ·Q
///
/// Under GQA, dK and dV of a KV head are the sums over the query heads that share it (as PyTorch's
/// `enable_gqa=True` autograd returns them). Masks are the score model's (windows of any alignment,
/// explicit masks); a row that sees no key contributes nothing: its dQ row is 0 and it adds 0 to dK
/// and dV. The score terms (softcap, bias, ALiBi, sinks) have no gradient here yet and are refused.
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
///   - scoreModel: the mask (windows, explicit); score terms are refused.
/// - Throws: `AttnError.usage` naming the input at fault (`.dO` for a gradient of the wrong shape or
///   with NaN/Inf; the term's parameter for a score term), as `attention(_:scale:scoreModel:kernel:)` otherwise.
public func attentionBackward<T: KernelScalar>(
    _ problem: AttentionTensors<T>, dO: Tensor<T>, scale: Scale, scoreModel: ScoreModel = .plain,
    kernel: BackwardKernel = .fused, threads: Int? = nil
) throws -> AttentionGradients<T> {
    switch kernel {
    case .reference:
        return try ReferenceBackward.compute(problem, dO: dO, scale: scale, scoreModel: scoreModel)
            .converted(to: T.self)
    case .fused:
        return try FusedBackward.compute(problem, dO: dO, scale: scale, scoreModel: scoreModel, threads: threads)
    }
}

/// The checks every backward kernel makes: dO has the output's shape and finite entries; the score
/// model fits the problem and has no term beyond its mask.
func validateBackward<T: AttnScalar>(_ dO: Tensor<T>, shape: AttentionShape, q: Tensor<T>, model: ScoreModel) throws {
    try model.validate(for: shape)
    try model.requireSupported([.leftWindow, .explicitMask], by: "the backward pass")
    guard dO.heads == shape.flatHeads, dO.rows == shape.nq, dO.cols == shape.dv,
        dO.batch == q.batch || dO.logicalRank < 4
    else {
        throw AttnError.usage(
            .dO, "shape \(dO.shape) does not match the output shape \(Array(q.shape.dropLast()) + [shape.dv])")
    }
    guard dO.isFinite else { throw AttnError.usage(.dO, "contains NaN or Inf") }
}

/// The keys each query row sees under a score model's mask: the window's range, less the keys an
/// explicit mask hides. Flat query head f is (batch f / heads, head f % heads).
struct BackwardMask: Sendable {
    let mask: AttentionMask, nq: Int, nk: Int, heads: Int
    init(_ model: ScoreModel, _ shape: AttentionShape) {
        (mask, nq, nk, heads) = (model.mask, shape.nq, shape.nk, shape.headsQ)
    }
    /// The window's keys of row i (explicitly masked ones included).
    @inline(__always) func window(_ i: Int) -> Range<Int> { mask.visibleKeys(row: i, queries: nq, keys: nk) }
    var hasExplicit: Bool { mask.explicit != nil }
    /// Whether key j of row i's window is visible to flat query head f.
    @inline(__always) func visible(head f: Int, row i: Int, key j: Int) -> Bool {
        mask.explicit.map { $0[batch: f / heads, head: f % heads, row: i, col: j] } ?? true
    }
    /// [lo, hi): the union of the windows of `rows` (lo ≥ hi when every one is empty).
    func union(rows: Range<Int>) -> (Int, Int) {
        var lo = nk, hi = 0
        for i in rows {
            let w = window(i)
            if !w.isEmpty { (lo, hi) = (min(lo, w.lowerBound), max(hi, w.upperBound)) }
        }
        return (lo, hi)
    }
    /// The keys row i of flat head f sees.
    func count(head f: Int, row i: Int) -> Int {
        let w = window(i)
        return hasExplicit ? w.reduce(0) { $0 + (visible(head: f, row: i, key: $1) ? 1 : 0) } : w.count
    }
}

/// `attention`: exact attention of a problem read from files, written to `out`, and, with `backward`,
/// its gradients given dO. The one library call behind the CLI command (every file written atomically).
public struct AttentionRequest: Sendable {
    /// Where Q, K, V come from (`.npy`, `FILE:NAME` or a tensor file; 2-D to 4-D, GQA; read exactly) and
    /// the output's `.npy` path.
    public var files: TensorFiles, out: String?
    public var scale: Scale = .standard
    public var scoreModel: ScoreModel = .plain
    public var kernel: AttentionKernel = .fast
    /// Compute in Float64 (and write float64) instead of Float32.
    public var double = false
    /// Where to write the per-row a-priori bound (Q's leading axes × n_q); nil: not written.
    public var boundOut: String?
    /// Where to write each row's log-sum-exp from the same kernel run as the output (natural log, sinks
    /// included, −∞ for a row that sees nothing; Q's leading axes × n_q, `attentionWithLSE`); nil: not written.
    public var lseOut: String?
    public var backward = BackwardRequest()

    public init(files: TensorFiles, out: String?, boundOut: String? = nil) {
        (self.files, self.out, self.boundOut) = (files, out, boundOut)
    }

    /// Q, K, V from `.npy` paths.
    public init(q: String, k: String, v: String, out: String?) {
        self.init(files: TensorFiles(explicit: ["q": q, "k": k, "v": v]), out: out)
    }

    /// - Throws: `AttnError.usage` naming the file or parameter at fault: no output asked for (`.output`),
    ///   as `BackwardRequest.run` and `attention(_:scale:scoreModel:kernel:)` otherwise.
    /// - Returns: the summary `attention --json` prints: the kernel and, with a forward output, its
    ///   `max_error_bound` (the largest per-row a-priori bound; +∞ where the kernel cannot bound a row).
    @discardableResult public func run() throws -> JSONValue {
        try backward.validate()
        try Parameter.output.require(
            out != nil || lseOut != nil || backward.upstream != nil, "give an output path, or dO and gradients")
        return try double ? run(Double.self) : run(Float.self)
    }

    func run<T: KernelScalar>(_: T.Type) throws -> JSONValue {
        let problem = try AttentionTensors<T>(files: files)
        var summary: [(String, JSONValue)] = [("kernel", .string(kernel.rawValue))]
        if out != nil || lseOut != nil {
            let r = try kernel.run(problem, scale: scale, scoreModel: scoreModel, lse: lseOut != nil)
            // Every file is written only once the kernel has succeeded (no partial set of outputs).
            if let out { try Npy.write(r.result.output, to: out) }
            if let lseOut, let lse = r.lse { try Npy.write(lse, to: lseOut) }
            if let boundOut { try Npy.write(r.result.rowBounds.tensor(like: r.result.output), to: boundOut) }
            summary.append(("max_error_bound", .double(r.result.maxErrorBound)))
        }
        try backward.run(problem, scale: scale, scoreModel: scoreModel)
        return .object(summary)
    }
}

/// `attention --do`: the gradients of a problem, written where asked (nothing without dO).
public struct BackwardRequest: Sendable {
    /// `.npy` path of the upstream gradient dO (the output's shape; float16/32/64, widened exactly).
    public var upstream: String?
    /// Where to write dQ (Q's shape), dK (K's) and dV (V's); nil: not written.
    public var dqOut: String?, dkOut: String?, dvOut: String?
    public var kernel: BackwardKernel = .fused

    /// - Parameter kernel: the forward kernel's name: `reference` runs `ReferenceBackward`, `fast` `FusedBackward`.
    public init(
        upstream: String? = nil, dqOut: String? = nil, dkOut: String? = nil, dvOut: String? = nil,
        kernel: AttentionKernel = .fast
    ) {
        (self.upstream, self.dqOut, self.dkOut, self.dvOut) = (upstream, dqOut, dkOut, dvOut)
        self.kernel = kernel == .reference ? .reference : .fused
    }

    /// - Throws: `AttnError.usage(.dO, …)` unless dO and at least one output go together; the output's
    ///   parameter (`.dqOut`, …) when its folder does not exist.
    public func validate() throws {
        let outs: [(Parameter, String?)] = [(.dqOut, dqOut), (.dkOut, dkOut), (.dvOut, dvOut)]
        try Parameter.dO.require(
            (upstream == nil) == outs.allSatisfy { $0.1 == nil }, "goes with at least one gradient output")
        for (p, path) in outs {
            let dir = ((path ?? "") as NSString).deletingLastPathComponent
            var isDir: ObjCBool = false
            try p.require(
                dir.isEmpty || (FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue),
                "\(path ?? ""): folder \(dir) does not exist")
        }
    }

    /// Reads dO, computes the gradients and writes them (nothing without dO).
    /// - Throws: `AttnError.usage` naming dO (unreadable, bad .npy, NaN/Inf, wrong shape) or the inputs.
    public func run<T: KernelScalar>(_ problem: AttentionTensors<T>, scale: Scale, scoreModel: ScoreModel) throws {
        try validate()
        guard let upstream else { return }
        let dO: Tensor<T>
        do { dO = try Npy.read(upstream) } catch let e as AttnError {
            throw AttnError.usage(.dO, "\(upstream): \(e.message)")
        }
        let g: AttentionGradients<T>
        do {
            g = try attentionBackward(problem, dO: dO, scale: scale, scoreModel: scoreModel, kernel: kernel)
        } catch let e as AttnError where e.parameter == .dO { throw AttnError.usage(.dO, "\(upstream): \(e.message)") }
        for (t, path) in [(g.dq, dqOut), (g.dk, dkOut), (g.dv, dvOut)] { if let path { try Npy.write(t, to: path) } }
    }
}
