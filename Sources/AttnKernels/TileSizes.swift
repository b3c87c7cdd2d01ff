/// Tile sizes of the tiled online-softmax kernels: `queryTile` rows of Q per
/// task, `keyTile` keys per score tile. The fused exact kernel
/// (`FastAttention`) takes its query rows per job from here and always uses
/// key tiles of `FastAttention.keyTile` keys (its register blocking needs it).
public struct TileSizes: Sendable, Equatable {
    public var queryTile: Int
    public var keyTile: Int
    public init(queryTile: Int, keyTile: Int) {
        precondition(queryTile >= 1 && keyTile >= 1)
        self.queryTile = queryTile
        self.keyTile = keyTile
    }
    /// 128 query rows per job: the fused kernel packs each 256-key tile of Kᵀ
    /// once per job, so its cost is 1/(4·128) of the job's flops, and 2 cores
    /// still get 32 jobs at n = 4096.
    public static let `default` = TileSizes(queryTile: 128, keyTile: FastAttention.keyTile)

    /// The same key tile; the query tile halved (not below 64 rows) until there
    /// are at least 16 (head, q-tile) jobs, so that small problems keep every
    /// core busy to the end. It depends on the shape only, never on the thread
    /// count, so results stay independent of it. The key tile, and so the error
    /// bound, is unchanged.
    public func balanced(queries nq: Int, heads: Int) -> TileSizes {
        var qt = queryTile
        while qt > 64, heads * ((nq + qt - 1) / qt) < 16 { qt /= 2 }
        return TileSizes(queryTile: max(1, min(qt, queryTile)), keyTile: keyTile)
    }
}
