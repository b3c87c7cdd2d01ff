import ArgumentParser
import AttnBlockSparse
import AttnCore
import AttnKernels
import Foundation

/// `attnbound bench sparse`: block-sparse runtime against skipped fraction,
/// beside the dense fast kernel measured in the same run; db-SP imbalance
/// before and after balancing.
struct BenchSparseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparse",
        abstract: "Block-sparse runtime vs skipped fraction; db-SP imbalance before/after.")

    @OptionGroup var options: BenchOptions

    @Option(help: "Sequence length n (n_q = n_k = n).") var n = 16384
    @Option(help: "Head dimension d.") var d = 64
    @Option(help: "Rows per q-tile of the block-sparse kernel.") var qTile = 256
    @Option(help: "Keys per k-tile of the block-sparse kernel.") var kTile = 512
    @Option(help: "Worker threads (default: all cores).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Seed of the inputs and masks.") var seed: UInt64 = 42

    func validate() throws {
        guard (1...65536).contains(n), (1...1024).contains(d) else { throw ValidationError("--n in 1...65536, --d in 1...1024") }
        guard (1...4096).contains(qTile), (1...4096).contains(kTile) else { throw ValidationError("--q-tile, --k-tile in 1...4096") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1...256") }
    }

    /// Medians of `body` and `yardstick` timed alternately (one warm-up each), so
    /// that a machine whose load drifts affects both alike.
    func alternating(runs: Int, _ body: () throws -> Void, yardstick: () throws -> Void) rethrows -> (Double, Double) {
        try body(); try yardstick()
        var a: [Double] = [], b: [Double] = []
        for _ in 0..<runs {
            a.append(try Timing.seconds(body))
            b.append(try Timing.seconds(yardstick))
        }
        return (Timing.median(of: a), Timing.median(of: b))
    }

    func run() throws {
        options.printBLAS()
        var rng = Xoshiro256StarStar(seed: seed)
        let q: Tensor<Float> = InputDistribution.uniform.sample(rows: n, cols: d, bound: 1, using: &rng)
        let k: Tensor<Float> = InputDistribution.uniform.sample(rows: n, cols: d, bound: 1, using: &rng)
        let v: Tensor<Float> = InputDistribution.uniform.sample(rows: n, cols: d, bound: 1, using: &rng)
        let tiles = TileSizes(queryTile: qTile, keyTile: kTile)
        let qt = TileMask.tileCount(n, tile: qTile), kt = TileMask.tileCount(n, tile: kTile)
        if !options.json { printNote("bench sparse: seed \(seed), n = \(n), d = \(d), tiles \(qTile)×\(kTile), \(threads) threads") }
        var speed: [JSONValue] = []
        if !options.json {
            print("Float32, one head, n = \(n), d = \(d); dense = FastAttention (default tiles), timed alternately with")
            print("the block-sparse kernel at each fraction; medians of \(options.runs); ratio = block-sparse / ((1−f)·dense)")
            print("target skipped  actual skipped   block-sparse s    dense s   (1−f)·dense s   ratio")
        }
        for step in 0...9 {
            let f = Double(step) / 10
            let mask = SyntheticMasks.skipping(fraction: f, heads: 1, qTiles: qt, kTiles: kt, seed: SplitMix64.mix(seed, UInt64(step)))
            let actual = 1 - mask.density
            let (t, dense) = try alternating(runs: options.runs) {
                _ = try BlockSparseAttention.compute(q: q, k: k, v: v, scale: .standard, mask: mask, tiles: tiles, threads: threads)
            } yardstick: {
                _ = try FastAttention.compute(q: q, k: k, v: v, scale: .standard, threads: threads)
            }
            let ideal = (1 - actual) * dense
            if options.json {
                speed.append(.object([("target_skipped_fraction", .double(f)), ("skipped_fraction", .double(actual)),
                                      ("seconds", .double(t)), ("dense_seconds", .double(dense)),
                                      ("ideal_seconds", .double(ideal)), ("ratio", .double(t / ideal))]))
            } else {
                print(String(format: "%14.1f %15.3f %16.4f %10.4f %15.4f %7.3f", f, actual, t, dense, ideal, t / ideal))
            }
        }
        // db-SP: 32 heads, 64 blocks, densities 0.05…0.6 across heads.
        var balance: [JSONValue] = []
        if !options.json { print("\ndb-SP imbalance ρ, 32 heads × 64 × 64 blocks, head densities 0.05…0.6, 8 devices")
            print("mask heads   U  R   density   ρ contiguous   ρ balanced   method") }
        for shuffled in [false, true] {
            let mask = SyntheticMasks.headVarying(heads: 32, qTiles: 64, kTiles: 64, minDensity: 0.05, maxDensity: 0.6,
                                                  shuffled: shuffled, seed: seed)
            for (U, R) in [(8, 1), (4, 2), (2, 4), (1, 8)] {
                let plan = try DbspPlanner.balancedPlan(mask: mask, ulysses: U, ring: R)
                let before = DbspPlan.contiguous(mask: mask, ulysses: U, ring: R).imbalance(mask), after = plan.imbalance(mask)
                let order = shuffled ? "shuffled" : "ascending"
                if options.json {
                    balance.append(.object([("head_order", .string(order)), ("ulysses", .int(U)), ("ring", .int(R)),
                                            ("density", .double(mask.density)), ("rho_contiguous", .double(before)),
                                            ("rho_balanced", .double(after)), ("method", .string(plan.method))]))
                } else {
                    print(String(format: "%-10@ %3d %2d %9.3f %14.3f %12.3f   %@", order, U, R, mask.density, before, after, plan.method))
                }
            }
        }
        if options.json {
            print(JSONValue.object([("blas", BLASInfo.current.json), ("benchmark", "sparse"), ("n", .int(n)), ("d", .int(d)), ("q_tile", .int(qTile)),
                                    ("k_tile", .int(kTile)), ("threads", .int(threads)), ("runs", .int(options.runs)),
                                    ("seed", .string(String(seed))),
                                    ("block_sparse", .array(speed)), ("dbsp", .array(balance))]).serialized())
        }
    }
}
