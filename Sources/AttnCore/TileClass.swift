/// What a tile of the score matrix (a block of query rows × a block of keys of one head) is
/// under an `AttentionMask`, as FlexAttention's `BlockMask` sorts blocks:
/// - `empty`: no key of the tile is visible to any of its rows: the tile is skipped;
/// - `full`: every key is visible to every row: no per-element mask is needed;
/// - `partial`: anything else: the mask is applied element by element.
///
/// The one classifier shared by the fused kernel, the certified float engine and the
/// block-sparse tile lists (`AttentionMask.classify`, `TileMap`).
public enum TileClass: UInt8, Sendable, Hashable, CaseIterable {
    case empty, full, partial
}

extension AttentionMask {
    /// The class of the tile `rows × keys` of (batch `b`, head `h`) in an n_q × n_k problem.
    ///
    /// The window part costs O(1): the visible range [lo(i), hi(i)) of row i is non-decreasing
    /// at both ends in i, so the first and last rows decide. An explicit mask adds a scan of
    /// the tile's elements (stopping at the first visible and the first hidden one).
    /// - Precondition: `rows` within 0..<n_q, `keys` within 0..<n_k, the explicit mask broadcasts.
    public func classify(batch b: Int, head h: Int, rows: Range<Int>, keys: Range<Int>, queries nq: Int, keys nk: Int)
        -> TileClass
    {
        guard !rows.isEmpty, !keys.isEmpty else { return .empty }
        let first = visibleKeys(row: rows.lowerBound, queries: nq, keys: nk)
        let last = visibleKeys(row: rows.upperBound - 1, queries: nq, keys: nk)
        // Full by the window: every row's range covers the tile (lo is largest at the last row, hi
        // smallest at the first).
        let windowFull = last.lowerBound <= keys.lowerBound && first.upperBound >= keys.upperBound
        // Empty by the window: rows whose range ends before the tile form a prefix, rows whose range
        // starts after it a suffix; the tile is empty iff they cover every row.
        var windowEmpty = true
        if !windowFull {
            for i in rows {
                let r = visibleKeys(row: i, queries: nq, keys: nk)
                if r.upperBound > keys.lowerBound && r.lowerBound < keys.upperBound { windowEmpty = false; break }
            }
        }
        if windowEmpty && !windowFull { return .empty }
        guard let explicit else { return windowFull ? .full : .partial }
        var sawVisible = false, sawHidden = false
        for i in rows {
            let r = windowFull ? keys : visibleKeys(row: i, queries: nq, keys: nk).clamped(to: keys)
            if r.count < keys.count { sawHidden = true }
            for j in r {
                if explicit[batch: b, head: h, row: i, col: j] { sawVisible = true } else { sawHidden = true }
                if sawVisible && sawHidden { return .partial }
            }
        }
        return sawVisible ? (sawHidden ? .partial : .full) : .empty
    }
}

/// The classes of every tile of a problem: `queryTile` rows × `keyTile` keys, per flat head
/// (batch · heads + head). Heads that the mask cannot tell apart (no explicit mask, or one
/// broadcast over batch and heads) share one map, so the memory is one class per tile.
public struct TileMap: Sendable, Equatable {
    public let queryTile: Int, keyTile: Int
    public let rowTiles: Int, keyTiles: Int
    /// Heads per batch entry (to split a flat head), and whether classes differ per head.
    @usableFromInline let headsPerBatch: Int, perHead: Bool
    @usableFromInline let classes: [TileClass]

    /// - Precondition: tiles ≥ 1, the mask validated for [batch, heads, n_q, n_k] (`ScoreModel.validate`).
    public init(
        mask: AttentionMask, batch: Int, heads: Int, queries nq: Int, keys nk: Int, queryTile: Int, keyTile: Int
    ) {
        precondition(queryTile >= 1 && keyTile >= 1 && batch >= 0 && heads >= 0)
        (self.queryTile, self.keyTile) = (queryTile, keyTile)
        rowTiles = (nq + queryTile - 1) / queryTile
        keyTiles = (nk + keyTile - 1) / keyTile
        headsPerBatch = max(1, heads)
        let e = mask.explicit
        perHead = e.map { $0.axes[0] != 1 || $0.axes[1] != 1 } ?? false
        let maps = perHead ? batch * heads : 1
        var c = [TileClass]()
        c.reserveCapacity(maps * rowTiles * keyTiles)
        for f in 0..<maps {
            let (b, h) = (f / headsPerBatch, f % headsPerBatch)
            for rt in 0..<rowTiles {
                let rows = rt * queryTile..<min(nq, (rt + 1) * queryTile)
                for kt in 0..<keyTiles {
                    let keys = kt * keyTile..<min(nk, (kt + 1) * keyTile)
                    c.append(mask.classify(batch: b, head: h, rows: rows, keys: keys, queries: nq, keys: nk))
                }
            }
        }
        classes = c
    }

    /// The class of row tile `rt`, key tile `kt` of flat head `f`.
    @inlinable public subscript(head f: Int, rowTile rt: Int, keyTile kt: Int) -> TileClass {
        classes[((perHead ? f : 0) * rowTiles + rt) * keyTiles + kt]
    }

    /// The fraction of tiles (of one head's map) that are not empty: what a tile-skipping kernel computes.
    public var visibleFraction: Double {
        let n = rowTiles * keyTiles
        guard n > 0 else { return 0 }
        return Double(classes.prefix(n).filter { $0 != .empty }.count) / Double(n)
    }
}
