import AttnBlockSparse
import AttnCore
import AttnKernels

/// A seeded random tile mask with at least one computed k-tile per q-tile.
func randomMask(heads: Int, qTiles: Int, kTiles: Int, density: Double, seed: Int) -> TileMask {
    var rng = Xoshiro256StarStar(seed: UInt64(seed) &+ 977)
    var m = TileMask(heads: heads, qTiles: qTiles, kTiles: kTiles, filled: false)
    for h in 0..<heads {
        for i in 0..<qTiles {
            for j in 0..<kTiles where rng.nextUnit() < density { m[h, i, j] = true }
            m[h, i, rng.below(kTiles)] = true
        }
    }
    return m
}

/// Reference attention with keys outside each row's computed k-tiles given
/// weight 0 and the rest renormalised (Float64).
func maskedReference<T: AttnScalar>(
    q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, scale: Scale, mask: TileMask,
    tiles: TileSizes
) throws -> Tensor<Double> {
    var w = try ReferenceAttention.weights(q: q, k: k, scale: scale, v: v)
    for h in 0..<q.heads {
        for i in 0..<q.rows {
            var sum = 0.0
            for j in 0..<k.rows {
                if mask[h, i / tiles.queryTile, j / tiles.keyTile] { sum += w[h, i, j] } else { w[h, i, j] = 0 }
            }
            for j in 0..<k.rows { w[h, i, j] /= sum }
        }
    }
    var out = Tensor<Double>(heads: q.heads, rows: q.rows, cols: v.cols)
    for h in 0..<q.heads {
        for i in 0..<q.rows {
            for j in 0..<k.rows where w[h, i, j] != 0 {
                for c in 0..<v.cols { out[h, i, c] += w[h, i, j] * Double(v[h, j, c]) }
            }
        }
    }
    return out
}

/// Per-row check |a − b| ≤ bound[h·rows + i] for every column.
func withinRowBounds<A: AttnScalar, B: RandomAccessCollection<Double>>(_ a: Tensor<A>, _ b: Tensor<Double>, _ bound: B)
    -> Bool
where B.Index == Int {
    for h in 0..<a.heads {
        for i in 0..<a.rows {
            for c in 0..<a.cols
            where !(abs(Double(a[h, i, c]) - b[h, i, c]) <= bound[h * a.rows + i]) { return false }
        }
    }
    return true
}

/// The parameter named by the usage error `body` throws, or nil if it throws nothing (or another error).
func usageParameter(_ body: () throws -> Void) -> Parameter? {
    do { try body() } catch let e as AttnError { return e.kind == .usage ? e.parameter : nil } catch { return nil }
    return nil
}

/// The small generated trajectory of the CLI tests: 2 × 4 × 8 tokens, 2 heads, d = 16, 4 steps, 8 × 8 tiles.
func smallTrajectory() -> TrajectorySpec {
    var t = TrajectorySpec()
    (t.frames, t.height, t.width, t.heads, t.d, t.steps, t.qTile, t.kTile, t.signal) = (2, 4, 8, 2, 16, 4, 8, 8, 6)
    return t
}
