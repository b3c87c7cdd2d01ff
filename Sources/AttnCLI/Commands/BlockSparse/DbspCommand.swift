import ArgumentParser
import AttnBlockSparse
import AttnCore
import AttnKernels
import Foundation

/// `attnbound dbsp`: db-SP balanced sequence-parallel planning.
struct DbspCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dbsp",
        abstract: "db-SP balanced sequence-parallel planning.",
        subcommands: [DbspPlanCommand.self])
}

/// `attnbound dbsp plan`: imbalance before/after, (U, R) choice, simulated execution.
struct DbspPlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Balance a block mask over U·R devices (Ulysses × ring) and choose (U, R) by a cost model.",
        discussion: """
            Writes one CSV row per factorisation U·R = --devices (or only --ulysses × --ring): the imbalance \
            ratio ρ of the contiguous and the balanced plan and the modelled latency; the chosen row has \
            chosen = 1. With --ranks-out, runs the chosen plan on seeded Q, K, V with simulated devices, \
            checks the result is bitwise the unpartitioned block-sparse one (exit 1 if not) and writes \
            per-device work and communication.
            """)

    @Option(help: "Block mask .npy [heads, q_blocks, k_blocks] of 0/1 (default: a seeded head-varying mask).")
    var mask: String?

    @Option(help: "Generated mask: heads.") var heads = 32
    @Option(help: "Generated mask: blocks per sequence.") var blocks = 64
    @Option(help: "Generated mask: density of the sparsest head.") var minDensity = 0.05
    @Option(help: "Generated mask: density of the densest head.") var maxDensity = 0.6
    @Flag(help: "Generated mask: deal the densities to heads in random order (default: ascending).") var shuffled = false
    @Option(help: "Seed of the generated mask and of the Q, K, V used by --ranks-out.") var seed: UInt64 = 1

    @Option(help: "Total devices N; every U·R = N that fits is considered.") var devices = 8
    @Option(help: "Fix the Ulysses degree U (with --ring).") var ulysses: Int?
    @Option(help: "Fix the ring degree R (with --ulysses).") var ring: Int?
    @Option(help: "Locality rewards tried by the block-level greedy, comma separated.")
    var rewards = CommaList<Double>(argument: "0,2,5,10")!

    @Option(help: "Tokens per block.") var blockSize = 64
    @Option(help: "Head dimension (cost model and --ranks-out).") var headDim = 64
    @Option(help: "Cost model: dense attention time of the whole problem on one device, seconds.") var denseSeconds = 1.0
    @Option(help: "Cost model: kernel launch time, seconds.") var launchSeconds = 1e-5
    @Option(help: "Cost model: link bandwidth, bytes per second.") var bandwidth = 2.5e10
    @Option(help: "Cost model: message latency, seconds.") var latency = 1e-5
    @Option(help: "Cost model: bytes per element.") var bytesPerElement = 2

    @Option(name: [.customLong("out"), .short], help: "Output CSV, one row per (U, R).") var out: String
    @Option(help: "Also execute the chosen plan with simulated devices and write per-device CSV here.") var ranksOut: String?
    @OptionGroup var threadsOption: ThreadsOption

    func validate() throws {
        try validateOutputPath(out, flag: "--out")
        if let r = ranksOut { try validateOutputPath(r, flag: "--ranks-out") }
        guard (ulysses == nil) == (ring == nil) else { throw ValidationError("--ulysses and --ring go together") }
        if let u = ulysses, let r = ring, u < 1 || r < 1 || u * r > 4096 { throw ValidationError("--ulysses, --ring ≥ 1 with U·R ≤ 4096") }
        guard (1...4096).contains(devices) else { throw ValidationError("--devices must be in 1...4096") }
        guard (1...1024).contains(heads), (1...4096).contains(blocks) else { throw ValidationError("--heads in 1...1024, --blocks in 1...4096") }
        guard 0 <= minDensity, minDensity <= maxDensity, maxDensity <= 1 else {
            throw ValidationError("need 0 ≤ --min-density ≤ --max-density ≤ 1")
        }
        guard (1...4096).contains(blockSize), (1...1024).contains(headDim), (1...16).contains(bytesPerElement) else {
            throw ValidationError("--block-size in 1...4096, --head-dim in 1...1024, --bytes-per-element in 1...16")
        }
        for (name, x) in [("--dense-seconds", denseSeconds), ("--bandwidth", bandwidth)] where !(x.isFinite && x > 0) {
            throw ValidationError("\(name) must be positive and finite")
        }
        for (name, x) in [("--launch-seconds", launchSeconds), ("--latency", latency)] where !(x.isFinite && x >= 0) {
            throw ValidationError("\(name) must be ≥ 0 and finite")
        }
        guard rewards.items.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw ValidationError("--rewards '\(rewards)': expected comma-separated numbers ≥ 0")
        }
    }

    func run() throws {
        let m: TileMask
        if let mask { m = try TileMask.read(mask) } else {
            m = SyntheticMasks.headVarying(heads: heads, qTiles: blocks, kTiles: blocks, minDensity: minDensity,
                                           maxDensity: maxDensity, shuffled: shuffled, seed: seed)
        }
        let model = DbspCostModel(denseSeconds: denseSeconds, launchSeconds: launchSeconds, bandwidth: bandwidth,
                                  latencySeconds: latency, tokens: m.qTiles * blockSize, heads: m.heads, headDim: headDim,
                                  bytesPerElement: bytesPerElement)
        var candidates: [DbspCandidate]
        if let u = ulysses, let r = ring {
            var c = try DbspPlanner.candidate(mask: m, ulysses: u, ring: r, model: model, rewards: rewards.items)
            c.chosen = true
            candidates = [c]
        } else {
            candidates = try DbspPlanner.select(mask: m, devices: devices, model: model, rewards: rewards.items)
        }
        let params: [(String, JSONValue)] = [
            ("mask", mask.map { .string($0) } ?? .null), ("heads", .int(m.heads)), ("q_blocks", .int(m.qTiles)),
            ("k_blocks", .int(m.kTiles)), ("min_density", .double(minDensity)), ("max_density", .double(maxDensity)),
            ("shuffled", .bool(shuffled)), ("devices", .int(devices)), ("rewards", .string(rewards.description)),
            ("block_size", .int(blockSize)), ("head_dim", .int(headDim)), ("dense_seconds", .double(denseSeconds)),
            ("launch_seconds", .double(launchSeconds)), ("bandwidth", .double(bandwidth)), ("latency", .double(latency)),
            ("bytes_per_element", .int(bytesPerElement)),
        ]
        let chosen = candidates.first(where: \.chosen)!
        if let ranksOut {
            let check = try DbspVerification.run(plan: chosen.plan, mask: m, blockSize: blockSize, headDim: headDim,
                                                 seed: seed, threads: threadsOption.threads)
            let ranksParams = params + [("ulysses", .int(chosen.plan.ulysses)), ("ring", .int(chosen.plan.ring))]
            try BlockSparseCLI.write(csvHeader: DbspVerification.csvHeader, rows: check.csvRows, to: ranksOut,
                                     command: "dbsp plan --ranks-out", parameters: ranksParams, seed: seed)
            try check.check()
            printNote("dbsp: simulated \(check.ranks.count) devices; output bitwise equal to the unpartitioned kernel")
        }
        try BlockSparseCLI.write(csvHeader: DbspCandidate.csvHeader, rows: candidates.map { $0.csvFields(density: m.density) },
                                 to: out, command: "dbsp plan", parameters: params,
                                 seed: mask == nil || ranksOut != nil ? seed : nil)
        print("dbsp plan (seed \(seed)): chose U = \(chosen.ulysses), R = \(chosen.ring); ρ \(fmt(chosen.contiguousImbalance, 3)) (contiguous) → "
              + "\(fmt(chosen.balancedImbalance, 3)) (\(chosen.plan.method)); wrote \(out)")
    }
}
