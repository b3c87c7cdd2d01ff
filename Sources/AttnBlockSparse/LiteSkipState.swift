/// LiteAttention's ping-pong skip lists for one attention layer.
///
/// For every (head, q-tile) the state holds the set of k-tiles to compute at
/// the next denoising step. Step t reads one list and writes the other; the
/// written set is always a subset of the read set (skipped tiles are never
/// re-evaluated), so the computed set only shrinks until `reset()`.
public struct LiteSkipState: Sendable, Equatable, Codable {
    public private(set) var heads: Int
    public private(set) var qTiles: Int
    public private(set) var kTiles: Int
    /// The two lists, each `[heads, qTiles, kTiles]`; `true` = compute.
    var lists: [[Bool]]
    /// Index (0 or 1) of the list the next step reads.
    public private(set) var readIndex = 0
    /// Steps taken since the last reset.
    public private(set) var stepsSinceReset = 0

    /// A fresh state: every tile is computed at the first step.
    public init(heads: Int = 0, qTiles: Int = 0, kTiles: Int = 0) {
        self.heads = heads
        self.qTiles = qTiles
        self.kTiles = kTiles
        let all = [Bool](repeating: true, count: heads * qTiles * kTiles)
        lists = [all, all]
    }

    /// Forgets every skip decision (LiteAttention resets on request or on a change of shape).
    public mutating func reset() { self = LiteSkipState(heads: heads, qTiles: qTiles, kTiles: kTiles) }

    /// Resets if the shape differs from the state's.
    mutating func conform(heads: Int, qTiles: Int, kTiles: Int) {
        if heads != self.heads || qTiles != self.qTiles || kTiles != self.kTiles {
            self = LiteSkipState(heads: heads, qTiles: qTiles, kTiles: kTiles)
        }
    }

    /// The set the next step will compute (before must-do / must-skip ranges apply).
    public var computeMask: TileMask {
        TileMask(heads: heads, qTiles: qTiles, kTiles: kTiles, bits: lists[readIndex])
    }

    /// This state with the list the next step reads replaced by `list` (calibration: what the step
    /// just taken would have written under another threshold).
    func withNextList(_ list: [Bool]) -> LiteSkipState {
        var s = self
        s.lists[readIndex] = list
        return s
    }

    /// Flips the lists after a step has written `written` into the other one.
    mutating func commit(_ written: [Bool]) {
        lists[1 - readIndex] = written
        readIndex = 1 - readIndex
        stepsSinceReset += 1
    }
}
