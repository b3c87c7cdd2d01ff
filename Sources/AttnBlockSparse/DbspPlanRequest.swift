import AttnCore
import Foundation

/// `dbsp plan` as one request: a block mask (read, or seeded and head-varying), the cost
/// model, and either every factorisation U·R = `devices` or one fixed (U, R). `run` plans
/// (`DbspPlanner`), and with `execute` runs the chosen plan on simulated devices and checks
/// that the output is bitwise the unpartitioned one (`DbspVerification`).
public struct DbspPlanRequest: Sendable {
    /// A block mask `.npy` [heads, q_blocks, k_blocks] of 0/1; nil: `SyntheticMasks.headVarying`.
    public var mask: String?
    /// The generated mask: heads, blocks per sequence, the densities of the sparsest and the
    /// densest head, dealt to heads in ascending or shuffled order.
    public var heads = 32, blocks = 64
    public var minDensity = 0.05, maxDensity = 0.6
    public var shuffled = false
    /// Seed of the generated mask and of the Q, K, V of the execution.
    public var seed: UInt64 = 1
    public var devices = 8
    /// A fixed (U, R), both or neither.
    public var ulysses: Int?, ring: Int?
    /// Locality rewards tried by the block-level greedy.
    public var rewards: [Double] = [0, 2, 5, 10]
    /// The text of `rewards` as the user gave it (recorded in the sidecar).
    public var rewardsText = "0,2,5,10"
    public var blockSize = 64, headDim = 64
    /// The cost model (`DbspCostModel`): dense time of the whole problem on one device, launch
    /// time and message latency in seconds, link bandwidth in bytes per second.
    public var denseSeconds = 1.0, launchSeconds = 1e-5, bandwidth = 2.5e10, latency = 1e-5
    public var bytesPerElement = 2
    /// Execute the chosen plan with simulated devices.
    public var execute = false
    public var threads: Int?

    public init() {}

    /// - Throws: `AttnError.usage` naming the parameter out of range.
    public func validate() throws {
        try Parameter.ulysses.require((ulysses == nil) == (ring == nil), "goes with a ring degree")
        if let u = ulysses, let r = ring {
            try Parameter.ulysses.require(u >= 1 && r >= 1 && u * r <= 4096, "U, R ≥ 1 with U·R ≤ 4096")
        }
        try Parameter.devices.require(devices, in: 1...4096)
        try Parameter.heads.require(heads, in: 1...1024)
        try Parameter.blocks.require(blocks, in: 1...4096)
        try Parameter.minDensity.require(0 <= minDensity && minDensity <= maxDensity, "must be in [0, max density]")
        try Parameter.maxDensity.require(maxDensity <= 1, "must be ≤ 1")
        try Parameter.blockSize.require(blockSize, in: 1...4096)
        try Parameter.headDim.require(headDim, in: 1...1024)
        try Parameter.bytesPerElement.require(bytesPerElement, in: 1...16)
        for (p, x) in [(Parameter.denseSeconds, denseSeconds), (.bandwidth, bandwidth)] {
            try p.require(x.isFinite && x > 0, "must be positive and finite")
        }
        for (p, x) in [(Parameter.launchSeconds, launchSeconds), (.latency, latency)] {
            try p.require(x.isFinite && x >= 0, "must be ≥ 0 and finite")
        }
        try Parameter.rewards.require(rewards.allSatisfy { $0.isFinite && $0 >= 0 }, "expected numbers ≥ 0")
    }

    /// Plans, and executes when asked; `note` receives the execution's line.
    /// - Returns: the plan report (one row per (U, R); failure set when the execution was not
    ///   bitwise exact) and, with `execute`, the per-device report (a front end may name its
    ///   command after the option that asked for it).
    /// - Throws: `AttnError.usage` for invalid parameters or a bad mask, `.infeasible` when no
    ///   factorisation fits or the execution's inputs exceed 4 GB.
    public func run(note: (String) -> Void = { _ in }) throws -> (plan: RunReport, devices: RunReport?) {
        try validate()
        let m =
            try mask.map { try TileMask.read($0) }
            ?? SyntheticMasks.headVarying(
                heads: heads, qTiles: blocks, kTiles: blocks, minDensity: minDensity, maxDensity: maxDensity,
                shuffled: shuffled, seed: seed)
        let model = DbspCostModel(
            denseSeconds: denseSeconds, launchSeconds: launchSeconds, bandwidth: bandwidth, latencySeconds: latency,
            tokens: m.qTiles * blockSize, heads: m.heads, headDim: headDim, bytesPerElement: bytesPerElement)
        var candidates: [DbspCandidate]
        if let u = ulysses, let r = ring {
            candidates = [try DbspPlanner.candidate(mask: m, ulysses: u, ring: r, model: model, rewards: rewards)]
            candidates[0].chosen = true
        } else {
            candidates = try DbspPlanner.select(mask: m, devices: devices, model: model, rewards: rewards)
        }
        let params: [(String, JSONValue)] = [
            ("mask", mask.map { .string($0) } ?? .null), ("heads", .int(m.heads)), ("q_blocks", .int(m.qTiles)),
            ("k_blocks", .int(m.kTiles)), ("min_density", .double(minDensity)), ("max_density", .double(maxDensity)),
            ("shuffled", .bool(shuffled)), ("devices", .int(devices)), ("rewards", .string(rewardsText)),
            ("block_size", .int(blockSize)), ("head_dim", .int(headDim)), ("dense_seconds", .double(denseSeconds)),
            ("launch_seconds", .double(launchSeconds)), ("bandwidth", .double(bandwidth)),
            ("latency", .double(latency)), ("bytes_per_element", .int(bytesPerElement)),
        ]
        let chosen = candidates.first(where: \.chosen)!
        var devicesReport: RunReport? = nil, failure: AttnError? = nil
        if execute {
            let check = try DbspVerification.run(
                plan: chosen.plan, mask: m, blockSize: blockSize, headDim: headDim, seed: seed, threads: threads)
            devicesReport = RunReport(
                command: "dbsp plan",
                parameters: params + [("ulysses", .int(chosen.plan.ulysses)), ("ring", .int(chosen.plan.ring))],
                seed: seed, table: .init(header: DbspVerification.csvHeader, rows: check.csvRows))
            do {
                try check.check()
                note("dbsp: simulated \(check.ranks.count) devices; output bitwise equal to the unpartitioned kernel")
            } catch let e as AttnError { failure = e }
        }
        let text =
            "dbsp plan (seed \(seed)): chose U = \(chosen.ulysses), R = \(chosen.ring); ρ "
            + "\(TextFormat.fixed(chosen.contiguousImbalance, 3)) (contiguous) → "
            + "\(TextFormat.fixed(chosen.balancedImbalance, 3)) (\(chosen.plan.method))"
        let plan = RunReport(
            command: "dbsp plan", parameters: params, seed: mask == nil || execute ? seed : nil,
            table: .init(header: DbspCandidate.csvHeader, rows: candidates.map { $0.csvFields(density: m.density) }),
            text: [text], failure: failure)
        return (plan, devicesReport)
    }
}
