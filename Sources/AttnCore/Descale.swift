import Foundation

/// A dequantization factor for fp8 attention inputs, as FlashAttention 3 takes `q_descale`,
/// `k_descale` and `v_descale`: one factor for every head, or a tensor of shape [batch, heads_kv]
/// (a query head uses the factor of its KV head, as in FA3).
///
/// The truth is attention on the dequantized inputs value × factor. fp8 (≤ 4 significant bits),
/// float16 (11) and float32 (24) values times a float32 factor (24) are exact in Double, so the
/// dequantized inputs are exact; a product that is not exact (or overflows) is refused rather
/// than rounded.
public enum Descale: Sendable, Equatable {
    /// One factor for every head.
    case scalar(Double)
    /// Factors of shape [batch, heads_kv] (a 2-D tensor: `rows` = batch, `cols` = heads_kv).
    case perHead(Tensor<Double>)

    /// Parses a number (read as a float32, the type of FA3's descale tensors: a printed float32
    /// reads back as itself) or a tensor source (`.npy`, or `FILE:NAME` in an archive).
    /// - Throws: `AttnError.usage` naming `parameter` for an unreadable file or a factor that is
    ///   not finite and > 0.
    public init(parsing text: String, parameter: Parameter) throws {
        if let x = Float(text) {
            self = .scalar(Double(x))
        } else {
            let t: StoredTensor<Double>
            do { t = try TensorFile.read(TensorSource(parsing: text)) } catch let e as AttnError {
                throw AttnError.usage(parameter, e.message)
            }
            guard t.tensor.logicalRank <= 2 else {
                throw AttnError.usage(parameter, "\(text): shape \(t.tensor.shape) is not [batch, heads_kv]")
            }
            self = .perHead(t.tensor)
        }
        try validate(parameter: parameter)
    }

    /// The three factors from their texts (nil: none).
    public static func parsing(q: String?, k: String?, v: String?) throws -> (q: Descale?, k: Descale?, v: Descale?) {
        (
            try q.map { try Descale(parsing: $0, parameter: .qDescale) },
            try k.map { try Descale(parsing: $0, parameter: .kDescale) },
            try v.map { try Descale(parsing: $0, parameter: .vDescale) }
        )
    }

    /// - Throws: `AttnError.usage` naming `parameter` unless every factor is finite and > 0.
    public func validate(parameter: Parameter) throws {
        let values: [Double]
        switch self {
        case .scalar(let x): values = [x]
        case .perHead(let t): values = t.storage
        }
        for x in values where !(x.isFinite && x > 0) {
            throw AttnError.usage(parameter, "a descale factor must be finite and > 0, got \(x)")
        }
    }

    /// The factor of flat head `f` of a tensor with `headsPerBatch` heads per batch entry, where
    /// `group` heads share one KV head (1 for K and V themselves).
    func factor(flatHead f: Int, headsPerBatch: Int, group: Int) -> Double {
        switch self {
        case .scalar(let x): return x
        case .perHead(let t): return t.storage[(f / headsPerBatch) * t.cols + (f % headsPerBatch) / group]
        }
    }
}

extension AttentionTensors {
    /// Q, K, V multiplied by their descale factors, exactly.
    /// - Throws: `AttnError.usage` naming the factor (`.qDescale`, …) whose shape is not
    ///   [batch, heads_kv], that is not finite and > 0, or whose product with an input is not
    ///   exact in `T` (it would round, so the truth would not be the dequantized problem's).
    public func dequantized(q dq: Descale?, k dk: Descale?, v dv: Descale?) throws -> AttentionTensors {
        func apply(_ t: Tensor<T>, _ d: Descale?, _ p: Parameter, group: Int) throws -> Tensor<T> {
            guard let d else { return t }
            try d.validate(parameter: p)
            if case .perHead(let s) = d, s.rows * s.cols != shape.batch * shape.headsKV || s.cols != shape.headsKV {
                throw AttnError.usage(
                    p, "shape \(s.shape) does not match [batch, heads_kv] = [\(shape.batch), \(shape.headsKV)]")
            }
            var out = t
            let m = t.rows * t.cols
            try out.withUnsafeMutableBufferPointer { b in
                for f in 0..<t.heads {
                    let x = T(d.factor(flatHead: f, headsPerBatch: t.headsPerBatch, group: group))
                    guard Double(x) == d.factor(flatHead: f, headsPerBatch: t.headsPerBatch, group: group) else {
                        throw AttnError.usage(p, "a factor is not exact in \(T.dtypeName)")
                    }
                    for i in f * m..<(f + 1) * m {
                        let y = b[i] * x
                        // Exact iff the fused remainder b·x − y is zero (and nothing overflowed).
                        guard y.isFinite, (-y).addingProduct(b[i], x) == 0 else {
                            throw AttnError.usage(
                                p, "input × factor is not exact in \(T.dtypeName) at flat index \(i) (\(b[i]) × \(x))")
                        }
                        b[i] = y
                    }
                }
            }
            return out
        }
        return try AttentionTensors(
            q: apply(q, dq, .qDescale, group: shape.group), k: apply(k, dk, .kDescale, group: 1),
            v: apply(v, dv, .vDescale, group: 1), checkFinite: false)
    }
}
