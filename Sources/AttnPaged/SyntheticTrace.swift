import AttnCore
import Foundation

/// A seeded decode trace whose importance shifts, in the shapes `kv-replay` reads.
///
/// - Keys are N(0, 1) noise plus, per page, a "topic" direction; queries drift
///   along a slow rotation through the topics, so the important pages move.
/// - One passkey page (keys along a hidden direction u, values a distinctive
///   constant) is slightly *disliked* by the prompt's last query and by every
///   decode query before `askStep` (they carry −u), and strongly wanted from
///   `askStep` on (+κ·u): it matters little for many steps, then a lot.
///
/// Postconditions: `keys`/`values` have `kvHeads × (prefill + steps)` rows,
/// `queries` `queryHeads × steps` rows, `prefillQueries` `queryHeads × d`.
public struct SyntheticTrace: Sendable {
    public struct Parameters: Sendable, Equatable {
        public var kvHeads = 4
        public var groupSize = 2
        public var d = 128
        public var dv = 128
        public var prefill = 8192
        public var steps = 64
        /// The passkey's logical page (with `pageSize`) and the step from which it is asked for.
        public var pageSize = 32
        public var passkeyPage = 40
        public var askStep = 48
        public var seed: UInt64 = 1
        public init() {}
    }

    public let parameters: Parameters
    public let keys: Tensor<Float>
    public let values: Tensor<Float>
    public let queries: Tensor<Float>
    public let prefillQueries: [Float]

    /// - Throws: `AttnError.usage` when the passkey page is outside the prompt or the ask step outside the run.
    public init(_ p: Parameters) throws {
        guard p.prefill >= 1, p.steps >= 1, p.pageSize >= 1, p.kvHeads >= 1, p.groupSize >= 1, p.d >= 2, p.dv >= 1
        else {
            throw AttnError.usage("synthetic trace: sizes must be positive (d ≥ 2)")
        }
        guard (p.passkeyPage + 1) * p.pageSize <= p.prefill else {
            throw AttnError.usage(
                "synthetic trace: passkey page \(p.passkeyPage) is not a full page of the \(p.prefill)-token prompt")
        }
        guard (0..<p.steps).contains(p.askStep) else {
            throw AttnError.usage("synthetic trace: ask step \(p.askStep) is not in 0..<\(p.steps)")
        }
        parameters = p
        var rng = Xoshiro256StarStar(seed: p.seed)
        let n = p.prefill + p.steps, (d, dv) = (p.d, p.dv)
        let topics = 8
        func unit(_ rng: inout Xoshiro256StarStar) -> [Double] {
            var x = (0..<d).map { _ in rng.gaussian() }
            let r = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in x.indices { x[i] /= r }
            return x
        }
        var keys = [Float](repeating: 0, count: p.kvHeads * n * d)
        var values = [Float](repeating: 0, count: p.kvHeads * n * dv)
        var queries = [Float](repeating: 0, count: p.kvHeads * p.groupSize * p.steps * d)
        var prefillQ = [Float](repeating: 0, count: p.kvHeads * p.groupSize * d)
        let sqrtD = Double(d).squareRoot()
        for h in 0..<p.kvHeads {
            let dirs = (0..<topics).map { _ in unit(&rng) }
            let basis = (0..<8).map { _ in unit(&rng) }
            let passkey = unit(&rng)
            // Keys: a page topic (or the passkey direction), a shared low-rank part, small noise.
            for j in 0..<n {
                let page = j / p.pageSize
                let isKey = page == p.passkeyPage
                let lead =
                    isKey ? passkey : dirs[Int(SplitMix64.mix(p.seed ^ UInt64(h), UInt64(page)) % UInt64(topics))]
                let mixing = basis.map { _ in 0.6 * rng.gaussian() }
                for c in 0..<d {
                    var x = (isKey ? 3.0 : 2.0) * lead[c] + 0.15 * rng.gaussian()
                    for r in 0..<basis.count { x += mixing[r] * basis[r][c] }
                    keys[(h * n + j) * d + c] = Float(x)
                }
                for c in 0..<dv {
                    values[(h * n + j) * dv + c] = Float(isKey ? 2.0 + 0.1 * rng.gaussian() : 0.5 * rng.gaussian())
                }
            }
            // Queries: a slow walk through the topics, slightly against the passkey before the ask, for it after.
            for g in 0..<p.groupSize {
                let qh = h * p.groupSize + g
                let jitter = unit(&rng)
                func query(_ t: Double, asked: Bool) -> [Float] {
                    let pos = t / 16, i = Int(pos) % topics, f = pos - pos.rounded(.down)
                    let a = dirs[i], b = dirs[(i + 1) % topics]
                    let beta = asked ? 3.0 : -0.3
                    return (0..<d).map { c in
                        Float(sqrtD * (2.0 * ((1 - f) * a[c] + f * b[c] + 0.3 * jitter[c]) + beta * passkey[c]))
                    }
                }
                let q0 = query(0, asked: false)
                for c in 0..<d { prefillQ[qh * d + c] = q0[c] }
                for t in 0..<p.steps {
                    let q = query(Double(t + 1), asked: t >= p.askStep)
                    for c in 0..<d { queries[(qh * p.steps + t) * d + c] = q[c] }
                }
            }
        }
        self.keys = Tensor(heads: p.kvHeads, rows: n, cols: d, storage: keys, logicalRank: 3)
        self.values = Tensor(heads: p.kvHeads, rows: n, cols: dv, storage: values, logicalRank: 3)
        self.queries = Tensor(heads: p.kvHeads * p.groupSize, rows: p.steps, cols: d, storage: queries, logicalRank: 3)
        prefillQueries = prefillQ
    }
}
