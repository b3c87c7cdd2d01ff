import AttnCore

/// Seeded block masks for benchmarks and the CLI.
public enum SyntheticMasks {
    /// Every q-tile skips exactly `round(fraction·kTiles)` k-tiles chosen at
    /// random (at most kTiles − 1, so no row is empty).
    public static func skipping(fraction: Double, heads: Int, qTiles: Int, kTiles: Int, seed: UInt64) -> TileMask {
        precondition((0...1).contains(fraction) && kTiles >= 1)
        let skip = min(kTiles - 1, Int((fraction * Double(kTiles)).rounded()))
        var rng = Xoshiro256StarStar(seed: seed)
        var m = TileMask(heads: heads, qTiles: qTiles, kTiles: kTiles, filled: true)
        var idx = Array(0..<kTiles)
        for h in 0..<heads {
            for i in 0..<qTiles {
                rng.shuffle(&idx)
                for j in idx.prefix(skip) { m[h, i, j] = false }
            }
        }
        return m
    }

    /// Head-varying density: head h keeps each block with probability
    /// p_h = minDensity + (maxDensity − minDensity)·h/(H−1), plus the diagonal
    /// block (q-block i always sees k-block i·kTiles/qTiles). With `shuffled`
    /// the densities are dealt to heads in a seeded random order instead of ascending.
    public static func headVarying(
        heads: Int, qTiles: Int, kTiles: Int, minDensity: Double, maxDensity: Double,
        shuffled: Bool, seed: UInt64
    ) -> TileMask {
        precondition(
            heads >= 1 && qTiles >= 1 && kTiles >= 1 && 0 <= minDensity && minDensity <= maxDensity && maxDensity <= 1)
        var rng = Xoshiro256StarStar(seed: seed)
        var order = Array(0..<heads)
        if shuffled { rng.shuffle(&order) }
        var m = TileMask(heads: heads, qTiles: qTiles, kTiles: kTiles, filled: false)
        for h in 0..<heads {
            let rank = Double(order[h])
            let p = heads == 1 ? maxDensity : minDensity + (maxDensity - minDensity) * rank / Double(heads - 1)
            for i in 0..<qTiles {
                for j in 0..<kTiles where rng.nextUnit() < p { m[h, i, j] = true }
                m[h, i, i * kTiles / qTiles] = true
            }
        }
        return m
    }
}
