import AttnCore

/// Which (q-tile, k-tile) pairs of each head are computed: a boolean array
/// `heads × qTiles × kTiles`, row-major (the db-SP "block mask").
///
/// Tile `i` of a sequence of length n with tile size b covers rows
/// `i·b ..< min((i+1)·b, n)`; only the last tile may be short.
public struct TileMask: Sendable, Equatable {
    public let heads: Int
    public let qTiles: Int
    public let kTiles: Int
    /// `true` = compute this pair. Row-major `[heads, qTiles, kTiles]`.
    public var bits: [Bool]

    /// A mask with every pair set to `filled`.
    public init(heads: Int, qTiles: Int, kTiles: Int, filled: Bool = true) {
        precondition(heads >= 0 && qTiles >= 0 && kTiles >= 0)
        self.heads = heads
        self.qTiles = qTiles
        self.kTiles = kTiles
        bits = [Bool](repeating: filled, count: heads * qTiles * kTiles)
    }

    /// - Precondition: `bits.count == heads·qTiles·kTiles`.
    public init(heads: Int, qTiles: Int, kTiles: Int, bits: [Bool]) {
        precondition(bits.count == heads * qTiles * kTiles, "mask storage does not match its shape")
        self.heads = heads
        self.qTiles = qTiles
        self.kTiles = kTiles
        self.bits = bits
    }

    @inlinable public subscript(h: Int, i: Int, j: Int) -> Bool {
        get { bits[(h * qTiles + i) * kTiles + j] }
        set { bits[(h * qTiles + i) * kTiles + j] = newValue }
    }

    /// Number of computed pairs.
    public var computedCount: Int { bits.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// Fraction of pairs computed (1 for an empty mask).
    public var density: Double { bits.isEmpty ? 1 : Double(computedCount) / Double(bits.count) }

    /// Computed pairs of head `h` (the db-SP per-head load).
    public func computedCount(head h: Int) -> Int {
        var c = 0
        for i in (h * qTiles * kTiles)..<((h + 1) * qTiles * kTiles) where bits[i] { c += 1 }
        return c
    }

    /// Number of tiles of size `tile` covering `n` rows.
    public static func tileCount(_ n: Int, tile: Int) -> Int { (n + tile - 1) / tile }

    /// Reads a mask from a `[heads, qTiles, kTiles]` (or `[qTiles, kTiles]`) .npy
    /// whose entries are exactly 0 or 1.
    /// - Throws: `AttnError.usage` for any other value or an empty shape.
    public static func read(_ path: String) throws -> TileMask {
        let t: Tensor<Double> = try Npy.read(path)
        guard t.logicalRank >= 2, t.count > 0 else {
            throw AttnError.usage(
                "\(path): a block mask needs shape [heads, q_blocks, k_blocks] with no zero dimension")
        }
        var bits = [Bool](repeating: false, count: t.count)
        for (i, x) in t.storage.enumerated() {
            guard x == 0 || x == 1 else { throw AttnError.usage("\(path): mask entries must be 0 or 1, found \(x)") }
            bits[i] = x == 1
        }
        return TileMask(heads: t.heads, qTiles: t.rows, kTiles: t.cols, bits: bits)
    }

    /// The mask as a Float64 tensor of 0s and 1s (for `Npy.write`).
    public var tensor: Tensor<Double> {
        Tensor(heads: heads, rows: qTiles, cols: kTiles, storage: bits.map { $0 ? 1 : 0 }, logicalRank: 3)
    }
}
