/// The shape of an attention problem as PyTorch states it, GQA included.
///
/// Q is `[batch, heads_q, n_q, d]` (or 2-D/3-D with batch 1), K is
/// `[batch, heads_kv, n_k, d]` and V `[batch, heads_kv, n_k, d_v]`, where
/// `heads_kv` divides `heads_q` and query head `h` uses KV head
/// `h / (heads_q / heads_kv)`, as in `scaled_dot_product_attention(..., enable_gqa=True)`
/// (AttnKit.docc/Conventions.md, "Tensors").
public struct AttentionShape: Sendable, Equatable, CustomStringConvertible {
    public let batch: Int
    /// Query heads per batch entry.
    public let headsQ: Int
    /// Key/value heads per batch entry (divides `headsQ`).
    public let headsKV: Int
    public let nq: Int
    public let nk: Int
    public let d: Int
    public let dv: Int

    /// Query heads that share one KV head.
    public var group: Int { headsQ / headsKV }

    /// Flat query heads (`batch · headsQ`), the `heads` of the Q tensor.
    public var flatHeads: Int { batch * headsQ }

    /// The flat KV head used by flat query head `f`.
    ///
    /// With `f = b·headsQ + h` and `headsQ = group·headsKV`,
    /// `f / group = b·headsKV + h / group`: one division serves batch and GQA.
    @inlinable public func kvHead(forQueryHead f: Int) -> Int { f / (headsQ / headsKV) }

    /// (batch, head) of flat query head `f`.
    @inlinable public func location(ofQueryHead f: Int) -> (batch: Int, head: Int) { (f / headsQ, f % headsQ) }

    public var description: String {
        "batch \(batch), \(headsQ) query heads, \(headsKV) KV heads, n_q \(nq), n_k \(nk), d \(d), d_v \(dv)"
    }

    /// Validates Q, K, V (AttnKit.docc/Conventions.md "Tensors") and returns their shape.
    ///
    /// - Throws: `AttnError.usage` naming the mismatch, an empty dimension, a
    ///   1-D array, or NaN/Inf (skipped with `checkFinite: false`).
    /// Specialised for Float and Double: called generically across modules, the per-element
    /// finiteness scan would otherwise run through witness tables (a fifth of `verify`'s time in a profile).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public init<T: AttnScalar>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, checkFinite: Bool = true) throws {
        for (p, name, t) in [(Parameter.q, "Q", q), (.k, "K", k), (.v, "V", v)] where t.logicalRank == 1 {
            throw AttnError.usage(p, "\(name): need 2, 3 or 4 dimensions, got shape \(t.shape)")
        }
        guard q.batch == k.batch, k.batch == v.batch else {
            throw AttnError.usage(
                .k,
                "shape mismatch: Q, K, V have batch \(q.batch), \(k.batch), \(v.batch) "
                    + "(shapes \(q.shape), \(k.shape), \(v.shape))")
        }
        guard k.headsPerBatch == v.headsPerBatch else {
            throw AttnError.usage(.v, "shape mismatch: K has \(k.headsPerBatch) heads but V has \(v.headsPerBatch)")
        }
        guard q.batch >= 1, q.headsPerBatch >= 1, k.headsPerBatch >= 1 else {
            throw AttnError.usage(.q, "shape: batch and head counts must be at least 1 (Q \(q.shape), K \(k.shape))")
        }
        guard q.headsPerBatch % k.headsPerBatch == 0 else {
            throw AttnError.usage(
                .q,
                "shape mismatch: Q has \(q.headsPerBatch) heads, not a multiple of the "
                    + "\(k.headsPerBatch) heads of K and V (GQA needs heads_kv to divide heads_q)")
        }
        try validateWidthsRowsAndValues(q: q, k: k, v: v, checkFinite: checkFinite)
        batch = q.batch; headsQ = q.headsPerBatch; headsKV = k.headsPerBatch
        nq = q.rows; nk = k.rows; d = q.cols; dv = v.cols
    }

    /// K or V with each KV head repeated `group` times, so that head `f` of the
    /// result is KV head `kvHead(forQueryHead: f)` (PyTorch's `repeat_interleave`).
    /// For kernels that take equal head counts; the copy costs `group ×` the KV memory.
    public func expandingKV<T>(_ t: Tensor<T>) -> Tensor<T> {
        guard group > 1 else { return t }
        let m = t.rows * t.cols
        var s = [T](); s.reserveCapacity(flatHeads * m)
        t.storage.withUnsafeBufferPointer { b in
            for f in 0..<flatHeads { let o = kvHead(forQueryHead: f) * m; s.append(contentsOf: b[o..<o + m]) }
        }
        return Tensor(
            heads: flatHeads, rows: t.rows, cols: t.cols, storage: s,
            logicalRank: max(t.logicalRank, 3), batch: batch, headsPerBatch: headsQ)
    }
}

/// Reads the Q, K, V files of an attention problem: the one path from disk
/// to a checked problem (`.npy`, `.npz` or `.safetensors` through `TensorFile`; shapes [n,d],
/// [heads,n,d], [batch,heads,n,d]; float16/bfloat16/fp8/float32/float64, read exactly; GQA).
public struct AttentionTensors<T: AttnScalar>: Sendable {
    public let q: Tensor<T>
    public let k: Tensor<T>
    public let v: Tensor<T>
    public let shape: AttentionShape
    /// The types Q, K and V were stored in (float64 for tensors made in memory).
    public private(set) var storage: (q: StorageType, k: StorageType, v: StorageType) = (.float64, .float64, .float64)

    /// Reads `PATH` or `PATH:NAME` for each of Q, K, V (`TensorSource`).
    /// - Throws: `AttnError.usage` naming the file at fault (unreadable, malformed, unsupported
    ///   dtype, 1-D, NaN/Inf) or the shape mismatch.
    public init(q qPath: String, k kPath: String, v vPath: String) throws {
        try self.init(files: TensorFiles(explicit: ["q": qPath, "k": kPath, "v": vPath]))
    }

    /// Reads Q, K, V from their sources in `files` and, with descale factors, dequantizes them
    /// exactly (`Descale`).
    /// - Throws: `AttnError.usage` naming the parameter or file at fault.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public init(files: TensorFiles, descale: (q: Descale?, k: Descale?, v: Descale?) = (nil, nil, nil)) throws {
        var t: [StoredTensor<T>] = []
        for (p, role) in [(Parameter.q, "q"), (.k, "k"), (.v, "v")] {
            let source = try files.source(role, required: true, parameter: p)!
            let x: StoredTensor<T>
            do { x = try TensorFile.read(source) } catch let e as AttnError {
                throw AttnError(e.kind, e.message, parameter: p)
            }
            guard x.tensor.logicalRank >= 2 else {
                throw AttnError.usage(p, "\(source): need 2, 3 or 4 dimensions, got shape \(x.tensor.shape)")
            }
            guard x.tensor.isFinite else { throw AttnError.usage(p, "\(source): contains NaN or Inf") }
            t.append(x)
        }
        try self.init(q: t[0].tensor, k: t[1].tensor, v: t[2].tensor, checkFinite: false)
        storage = (t[0].storage, t[1].storage, t[2].storage)
        if descale.q != nil || descale.k != nil || descale.v != nil {
            let types = storage
            self = try dequantized(q: descale.q, k: descale.k, v: descale.v)
            storage = types
        }
    }

    public init(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, checkFinite: Bool = true) throws {
        shape = try AttentionShape(q: q, k: k, v: v, checkFinite: checkFinite)
        self.q = q; self.k = k; self.v = v
    }

    /// K and V repeated to one KV head per query head (identity without GQA),
    /// for kernels that take equal head counts.
    public var expandedKV: (k: Tensor<T>, v: Tensor<T>) { (shape.expandingKV(k), shape.expandingKV(v)) }
}
