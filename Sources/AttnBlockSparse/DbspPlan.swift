import AttnCore

/// A db-SP placement of a block-sparse attention problem on N = U·R devices:
/// Ulysses degree U over heads, ring degree R over sequence chunks.
///
/// Device (k, i) holds the heads at permuted positions of group k and the
/// q-blocks at permuted positions of chunk i; at ring step t it computes
/// against KV chunk (i + t) mod R. Permutations only move work between
/// devices; they never change which (head, q-block, k-block) pairs are computed.
public struct DbspPlan: Sendable, Equatable {
    public let ulysses: Int
    public let ring: Int
    /// `headOrder[p]` = original head at permuted position p (group k holds p ∈ [k·H/U, (k+1)·H/U)).
    public var headOrder: [Int]
    /// `rowOrder[a]` = original q-block at permuted position a.
    public var rowOrder: [Int]
    /// `colOrder[b]` = original k-block at permuted position b.
    public var colOrder: [Int]
    /// How the plan was made ("contiguous", "head_greedy", "head_block_greedy_r5", …).
    public var method: String

    public var devices: Int { ulysses * ring }

    /// The naive plan: identity permutations.
    public static func contiguous(mask: TileMask, ulysses: Int, ring: Int) -> DbspPlan {
        DbspPlan(
            ulysses: ulysses, ring: ring, headOrder: Array(0..<mask.heads), rowOrder: Array(0..<mask.qTiles),
            colOrder: Array(0..<mask.kTiles), method: "contiguous")
    }

    /// Chunk c of `count` blocks split R ways: positions [c·count/R, (c+1)·count/R).
    public static func chunk(_ c: Int, of count: Int, parts: Int) -> Range<Int> {
        (c * count / parts)..<((c + 1) * count / parts)
    }

    /// Inverse of a permutation given as `order[position] = original`.
    static func positions(_ order: [Int]) -> [Int] {
        var pos = [Int](repeating: 0, count: order.count)
        for (p, o) in order.enumerated() { pos[o] = p }
        return pos
    }

    /// S[k][i][j]: dense blocks of head group k, Q chunk i, KV chunk j (flattened `[U, R, R]`).
    public func loads(_ mask: TileMask) -> [Int] {
        let (U, R) = (ulysses, ring)
        let hp = Self.positions(headOrder), rp = Self.positions(rowOrder), cp = Self.positions(colOrder)
        let group = (0..<mask.heads).map { hp[$0] / (mask.heads / U) }
        let rowChunk = (0..<mask.qTiles).map { o in
            (0..<R).first { Self.chunk($0, of: mask.qTiles, parts: R).contains(rp[o]) }!
        }
        let colChunk = (0..<mask.kTiles).map { o in
            (0..<R).first { Self.chunk($0, of: mask.kTiles, parts: R).contains(cp[o]) }!
        }
        var S = [Int](repeating: 0, count: U * R * R)
        for h in 0..<mask.heads {
            for a in 0..<mask.qTiles {
                let base = (group[h] * R + rowChunk[a]) * R
                for b in 0..<mask.kTiles where mask[h, a, b] { S[base + colChunk[b]] += 1 }
            }
        }
        return S
    }

    /// The sparse imbalance ratio ρ (db-SP): with S as in `loads`,
    /// T_k = Σ_t max_i S[k, i, (i+t) mod R] (each ring step waits for its
    /// slowest device) and ρ = max_k T_k / (ΣS / N). For R = 1 this is
    /// Ulysses' max_k S_k / mean_k S_k. An all-empty mask has ρ = 1.
    ///
    /// Postcondition: ρ ≥ 1 (a maximum is at least a mean).
    public func imbalance(_ mask: TileMask) -> Double {
        let (U, R) = (ulysses, ring), S = loads(mask)
        let total = S.reduce(0, +)
        guard total > 0 else { return 1 }
        var worst = 0
        for k in 0..<U {
            var tk = 0
            for t in 0..<R {
                var m = 0
                for i in 0..<R { m = max(m, S[(k * R + i) * R + (i + t) % R]) }
                tk += m
            }
            worst = max(worst, tk)
        }
        return Double(worst) / (Double(total) / Double(U * R))
    }

    /// Blocks (q and k) not in their contiguous chunk: the locality cost of the plan.
    public func movedBlocks() -> Int {
        func moved(_ order: [Int]) -> Int {
            (0..<ring).reduce(0) { acc, c in
                let r = Self.chunk(c, of: order.count, parts: ring)
                return acc + r.filter { !r.contains(order[$0]) }.count
            }
        }
        return moved(rowOrder) + moved(colOrder)
    }
}
