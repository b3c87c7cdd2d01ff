import AttnCore

/// Shape of one sequence's paged KV cache and of the queries that read it.
///
/// Grouped-query attention: query head `h` reads KV head `h / groupSize`
/// (`queryHeads = kvHeads · groupSize`; `groupSize = 1` is multi-head attention).
/// Keys and queries have `d` columns, values `dv`. Every page holds `pageSize`
/// consecutive tokens; page `p` covers absolute positions `p·P ..< p·P + P`,
/// and keeps that place when it is evicted and recalled.
///
/// The cache stores Float32, as the GPU systems it models do.
public struct KVLayout: Sendable, Equatable {
    public let kvHeads: Int
    public let groupSize: Int
    public let d: Int
    public let dv: Int
    public let pageSize: Int

    /// - Throws: `AttnError.usage` when a dimension is < 1 or absurdly large.
    public init(kvHeads: Int, groupSize: Int = 1, d: Int, dv: Int, pageSize: Int) throws {
        for (name, x, limit) in [
            ("KV heads", kvHeads, 4096), ("group size", groupSize, 4096),
            ("d", d, 65536), ("d_v", dv, 65536), ("page size", pageSize, 1 << 20),
        ]
        where !(1...limit).contains(x) {
            throw AttnError.usage("\(name) must be in 1...\(limit), got \(x)")
        }
        self.kvHeads = kvHeads
        self.groupSize = groupSize
        self.d = d
        self.dv = dv
        self.pageSize = pageSize
    }

    public var queryHeads: Int { kvHeads * groupSize }

    /// The KV head read by query head `h`.
    @inlinable public func kvHead(ofQueryHead h: Int) -> Int { h / groupSize }

    /// Bytes of one page of keys and values for one KV head (Float32).
    public var pageBytes: Int { pageSize * (d + dv) * MemoryLayout<Float>.size }
}
