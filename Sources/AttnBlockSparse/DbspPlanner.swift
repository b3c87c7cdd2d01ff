import AttnCore

/// db-SP's planners: head-level balanced greedy, block-level greedy with a
/// locality reward, and the choice among candidate plans.
public enum DbspPlanner {
    /// Checks that U·R devices can hold the mask: U divides the head count
    /// and every ring chunk gets at least one q-block and one k-block.
    public static func validate(mask: TileMask, ulysses: Int, ring: Int) throws {
        guard ulysses >= 1, ring >= 1 else {
            throw AttnError.usage(.ulysses, "the Ulysses and ring degrees must be ≥ 1")
        }
        guard mask.heads % ulysses == 0 else {
            throw AttnError.usage("Ulysses degree \(ulysses) does not divide the \(mask.heads) heads")
        }
        guard ring <= mask.qTiles, ring <= mask.kTiles else {
            throw AttnError.usage(
                "ring degree \(ring) exceeds the \(min(mask.qTiles, mask.kTiles)) blocks per sequence")
        }
    }

    /// Head-level greedy (db-SP): heads by dense count, descending (ties by
    /// index), each to the lightest group that still has room; capacity H/U.
    /// - Returns: `headOrder` (groups laid out one after another, each in assignment order).
    public static func balancedHeads(mask: TileMask, ulysses U: Int) -> [Int] {
        let weights = (0..<mask.heads).map { mask.computedCount(head: $0) }
        let groups = greedy(
            weights: weights, capacities: [Int](repeating: mask.heads / U, count: U),
            home: nil, reward: 0)
        return groups.flatMap { $0 }
    }

    /// Block-level greedy with locality reward (db-SP): q-blocks (or
    /// k-blocks) by their dense count over all heads, descending; each goes
    /// to the chunk with room minimising load − reward·w·[chunk is its
    /// contiguous home]. Capacities are the contiguous chunk sizes, so every
    /// device keeps its block count.
    /// - Returns: the order (`order[position] = original block`); within a chunk, blocks ascend.
    public static func balancedBlocks(weights: [Int], ring R: Int, reward: Double) -> [Int] {
        let caps = (0..<R).map { DbspPlan.chunk($0, of: weights.count, parts: R).count }
        let home = (0..<weights.count).map { b in
            (0..<R).first { DbspPlan.chunk($0, of: weights.count, parts: R).contains(b) }!
        }
        return greedy(weights: weights, capacities: caps, home: home, reward: reward).flatMap { $0.sorted() }
    }

    /// Greedy bin filling shared by both levels (ties go to the lower bin index).
    static func greedy(weights: [Int], capacities: [Int], home: [Int]?, reward: Double) -> [[Int]] {
        let order = weights.indices.sorted { weights[$0] != weights[$1] ? weights[$0] > weights[$1] : $0 < $1 }
        var bins = [[Int]](repeating: [], count: capacities.count)
        var load = [Double](repeating: 0, count: capacities.count)
        for item in order {
            var best = -1, bestCost = Double.infinity
            for b in capacities.indices where bins[b].count < capacities[b] {
                let bias = (home?[item] == b) ? reward * Double(weights[item]) : 0
                let cost = load[b] - bias
                if cost < bestCost { best = b; bestCost = cost }
            }
            bins[best].append(item)
            load[best] += Double(weights[item])
        }
        return bins
    }

    /// The head-level and block-level greedy plan for one locality reward.
    public static func greedyPlan(mask: TileMask, ulysses U: Int, ring R: Int, reward: Double) -> DbspPlan {
        var plan = DbspPlan.contiguous(mask: mask, ulysses: U, ring: R)
        plan.headOrder = balancedHeads(mask: mask, ulysses: U)
        if R > 1 {
            var rows = [Int](repeating: 0, count: mask.qTiles), cols = [Int](repeating: 0, count: mask.kTiles)
            for h in 0..<mask.heads {
                for a in 0..<mask.qTiles {
                    for b in 0..<mask.kTiles where mask[h, a, b] {
                        rows[a] += 1; cols[b] += 1
                    }
                }
            }
            plan.rowOrder = balancedBlocks(weights: rows, ring: R, reward: reward)
            plan.colOrder = balancedBlocks(weights: cols, ring: R, reward: reward)
        }
        plan.method = R > 1 ? "head_block_greedy_r\(formatShortest(reward))" : "head_greedy"
        return plan
    }

    /// The balanced plan: the candidate of least ρ among the contiguous plan,
    /// the head-only greedy plan and the head+block greedy plans for each
    /// reward; ties go to the plan that moves fewer blocks, then to the earlier candidate.
    ///
    /// Postcondition: `imbalance(balanced) ≤ imbalance(contiguous)` for every
    /// mask (the contiguous plan is a candidate).
    public static func balancedPlan(
        mask: TileMask, ulysses U: Int, ring R: Int,
        rewards: [Double] = [0, 2, 5, 10]
    ) throws -> DbspPlan {
        try validate(mask: mask, ulysses: U, ring: R)
        var candidates = [DbspPlan.contiguous(mask: mask, ulysses: U, ring: R)]
        var headOnly = candidates[0]
        headOnly.headOrder = balancedHeads(mask: mask, ulysses: U)
        headOnly.method = "head_greedy"
        candidates.append(headOnly)
        if R > 1 { candidates += rewards.map { greedyPlan(mask: mask, ulysses: U, ring: R, reward: $0) } }
        var best = candidates[0], bestKey = (best.imbalance(mask), best.movedBlocks())
        for c in candidates.dropFirst() {
            let key = (c.imbalance(mask), c.movedBlocks())
            if key.0 < bestKey.0 || (key.0 == bestKey.0 && key.1 < bestKey.1) { best = c; bestKey = key }
        }
        return best
    }
}
