import AttnCore
import AttnKernels
import Foundation

/// The middle-layer test on the last query's per-token contributions.
public struct ContributionAnalysis: Sendable, Equatable {
    /// cos(o − c_j, o) per token (NaN where undefined: o = 0 or o = c_j).
    public var cosines: [Double]
    /// ‖c_j‖₂ per token.
    public var norms: [Double]
    /// Smallest cosine over vision tokens (1 if there are none).
    public var minVisionCosine: Double
    /// True when some vision token has cos < layerThreshold: then prune.
    public var prune: Bool
    /// Tokens kept for the next layer: every text token; vision tokens with
    /// ‖c_j‖₂ > tokensThreshold when `prune`, else every vision token.
    public var keep: [Bool]
    /// o = Σ_j c_j, the last query's output concatenated over heads (length heads·d_v).
    public var lastOutput: [Double]

    public init(
        cosines: [Double], norms: [Double], minVisionCosine: Double, prune: Bool, keep: [Bool],
        lastOutput: [Double] = []
    ) {
        self.cosines = cosines; self.norms = norms; self.minVisionCosine = minVisionCosine
        self.prune = prune; self.keep = keep; self.lastOutput = lastOutput
    }
}

extension VisiPruner {
    /// Contributions of the last query (row n−1) to its output, c_j = a_{last,j}·v_j,
    /// concatenated over heads, with o = Σ_j c_j (VisiPruner's middle layers).
    /// Computed in Float64 from `ReferenceAttention.weights` of that one row.
    public static func analyse<T: AttnScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        types: TokenTypes, layerThreshold: Double = 0.995,
        tokensThreshold: Double = 0.2
    ) throws -> ContributionAnalysis {
        try validateAttentionShapes(q: q, k: k, v: v)
        try checkTypes(q, k, types)
        let (H, n, dv) = (q.heads, k.rows, v.cols)
        var lastQ = Tensor<T>(heads: H, rows: 1, cols: q.cols)
        for h in 0..<H { for c in 0..<q.cols { lastQ[h, 0, c] = q[h, q.rows - 1, c] } }
        let w = try ReferenceAttention.weights(q: lastQ, k: k, scale: scale)  // the last row sees every key
        var contrib = [Double](repeating: 0, count: n * H * dv)  // token-major: c_j is contiguous
        var o = [Double](repeating: 0, count: H * dv)
        for j in 0..<n {
            for h in 0..<H {
                let a = w[h, 0, j]
                for c in 0..<dv {
                    let x = a * Double(v[h, j, c])
                    contrib[(j * H + h) * dv + c] = x
                    o[h * dv + c] += x
                }
            }
        }
        let oNorm = o.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var cosines = [Double](repeating: .nan, count: n), norms = [Double](repeating: 0, count: n)
        for j in 0..<n {
            var dot = 0.0, rest = 0.0, cj = 0.0
            for e in 0..<(H * dv) {
                let c = contrib[j * H * dv + e], r = o[e] - c
                dot += r * o[e]; rest += r * r; cj += c * c
            }
            norms[j] = cj.squareRoot()
            let den = rest.squareRoot() * oNorm
            if den > 0 { cosines[j] = dot / den }
        }
        var minCos = 1.0
        for j in 0..<n where types.isVision[j] { minCos = cosines[j].isNaN ? -.infinity : min(minCos, cosines[j]) }
        let prune = minCos < layerThreshold
        let keep = (0..<n).map { !types.isVision[$0] || !prune || norms[$0] > tokensThreshold }
        return ContributionAnalysis(
            cosines: cosines, norms: norms, minVisionCosine: minCos, prune: prune, keep: keep,
            lastOutput: o)
    }

    /// Attention among the kept tokens only (dropped tokens leave the
    /// sequence as queries and as keys): `[heads, n_kept, d_v]`, rows in
    /// token order. Deep-layer dropping is `keep = text tokens`.
    public static func prunedAttention<T: KernelScalar>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale,
        keep: [Bool], scoreModel: ScoreModel = .plain,
        threads: Int? = nil
    ) throws -> (output: Tensor<T>, flops: AttentionFlops) {
        try validateAttentionShapes(q: q, k: k, v: v)
        guard q.rows == k.rows, keep.count == k.rows else {
            throw AttnError.usage(
                "keep mask: need n_q = n_k = \(keep.count) tokens, got n_q = \(q.rows), n_k = \(k.rows)")
        }
        let kept = keep.indices.filter { keep[$0] }
        guard !kept.isEmpty else { throw AttnError.usage("pruning keeps no token") }
        func gather(_ t: Tensor<T>) -> Tensor<T> {
            var s = [T](); s.reserveCapacity(t.heads * kept.count * t.cols)
            for h in 0..<t.heads { for j in kept { let o = t.offset(head: h, row: j); s += t.storage[o..<o + t.cols] } }
            return Tensor(heads: t.heads, rows: kept.count, cols: t.cols, storage: s, logicalRank: t.logicalRank)
        }
        let out = try FastAttention.compute(
            q: gather(q), k: gather(k), v: gather(v), scale: scale, scoreModel: scoreModel,
            threads: threads)
        func pairs(_ n: Int) -> Double {
            (0..<n).reduce(0.0) { $0 + Double(visible(row: $1, nq: n, nk: n, scoreModel: scoreModel)) }
        }
        let perPair = 2 * Double(q.heads) * Double(q.cols + v.cols)
        return (out, AttentionFlops(dense: perPair * pairs(q.rows), pruned: perPair * pairs(kept.count)))
    }
}

/// VisiPruner's layer schedule: shallow masking below `shallowMidLayer`,
/// then the middle test each layer; once every kept vision token has
/// cos ≥ `deepThreshold` in `deepPatience` consecutive layers, all vision tokens are dropped.
public struct VisiPrunerSchedule: Sendable, Equatable {
    public var shallowMidLayer = 6
    public var layerThreshold = 0.995
    public var tokensThreshold = 0.2
    public var deepThreshold = 0.999
    public var deepPatience = 2
    /// Consecutive layers so far with every kept vision token above `deepThreshold`.
    public private(set) var quietLayers = 0
    public init() {}

    /// What to do at layer ℓ given the middle-layer analysis of that layer.
    public enum Action: Sendable, Equatable {
        case shallowMask
        case keep([Bool])
        case dropAllVision
    }

    public mutating func action(layer: Int, analysis: ContributionAnalysis?, types: TokenTypes) -> Action {
        if layer < shallowMidLayer { return .shallowMask }
        guard let a = analysis else { return .keep([Bool](repeating: true, count: types.count)) }
        quietLayers = a.minVisionCosine >= deepThreshold ? quietLayers + 1 : 0
        return quietLayers >= deepPatience ? .dropAllVision : .keep(a.keep)
    }
}
