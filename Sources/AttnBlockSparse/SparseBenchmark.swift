import AttnCore
import AttnKernels
import Foundation

/// `bench sparse`: block-sparse runtime against the skipped fraction, beside the dense
/// fast kernel timed alternately in the same run (`Timing.alternating`), and db-SP's
/// imbalance before and after balancing. Speed is measured here, never in tests.
public enum SparseBenchmark {
    public struct Setup: Sendable {
        public var n = 16384, d = 64, queryTile = 256, keyTile = 512, threads = 1, runs = 5
        public var seed: UInt64 = 42
        public init() {}

        /// - Throws: `AttnError.usage` naming the size or tile out of range.
        public func validate() throws {
            try Parameter.n.require(n, in: 1...65536)
            try Parameter.d.require(d, in: 1...1024)
            try Parameter.qTile.require(queryTile, in: 1...4096)
            try Parameter.kTile.require(keyTile, in: 1...4096)
        }
    }

    public struct SpeedPoint: Sendable {
        public let targetSkipped: Double, skipped: Double, seconds: Double, denseSeconds: Double
        /// One `LiteAttention.step` computing the same tiles (its skip list set to the mask, threshold −∞ so that
        /// it marks none: each step computes the same set, and decides on every tile as it absorbs it).
        public let liteSeconds: Double
        /// (1 − skipped)·dense: the time if skipping cost nothing.
        public var idealSeconds: Double { (1 - skipped) * denseSeconds }
        public var ratio: Double { seconds / idealSeconds }
        public var liteRatio: Double { liteSeconds / idealSeconds }
    }

    public struct BalancePoint: Sendable {
        public let headOrder: String, ulysses: Int, ring: Int, density: Double
        public let contiguousImbalance: Double, balancedImbalance: Double, method: String
    }

    public struct Report: Sendable {
        public let setup: Setup
        public let speed: [SpeedPoint]
        public let balance: [BalancePoint]
    }

    /// Float32, one head, inputs uniform in [−1, 1] from `setup.seed`, scale 1/√d; masks skipping
    /// 0, 10, …, 90 % of the tiles; then 32 heads × 64 × 64 blocks with head densities 0.05…0.6 over
    /// 8 devices, heads in ascending and shuffled order.
    /// - Parameter note: receives one line naming the run (seed, n, d, tiles) once the setup is valid.
    public static func run(_ setup: Setup, note: (String) -> Void = { _ in }) throws -> Report {
        try setup.validate()
        note(
            "bench sparse: seed \(setup.seed), n = \(setup.n), d = \(setup.d), tiles \(setup.queryTile)×\(setup.keyTile)"
        )
        let (n, threads) = (setup.n, setup.threads)
        let (q, k, v): (Tensor<Float>, Tensor<Float>, Tensor<Float>) = InputDistribution.uniform.attentionInputs(
            queries: n, keys: n, d: setup.d, seed: setup.seed)
        let tiles = TileSizes(queryTile: setup.queryTile, keyTile: setup.keyTile)
        let qt = TileMask.tileCount(n, tile: setup.queryTile), kt = TileMask.tileCount(n, tile: setup.keyTile)
        var speed: [SpeedPoint] = []
        for step in 0...9 {
            let f = Double(step) / 10
            let mask = SyntheticMasks.skipping(
                fraction: f, heads: 1, qTiles: qt, kTiles: kt, seed: SplitMix64.mix(setup.seed, UInt64(step)))
            let lite = LiteConfig(threshold: -.infinity, tiles: tiles)
            var state = LiteSkipState(heads: 1, qTiles: qt, kTiles: kt).withNextList(mask.bits)
            let t = try Timing.interleaved(
                runs: setup.runs,
                [
                    {
                        _ = try BlockSparseAttention.compute(
                            q: q, k: k, v: v, scale: .standard, mask: mask, tiles: tiles, threads: threads)
                    },
                    { _ = try LiteAttention.step(q: q, k: k, v: v, scale: .standard, config: lite, state: &state) },
                    { _ = try FastAttention.compute(q: q, k: k, v: v, scale: .standard, threads: threads) },
                ])
            speed.append(
                SpeedPoint(
                    targetSkipped: f, skipped: 1 - mask.density, seconds: t[0], denseSeconds: t[2], liteSeconds: t[1]))
        }
        var balance: [BalancePoint] = []
        for shuffled in [false, true] {
            let mask = SyntheticMasks.headVarying(
                heads: 32, qTiles: 64, kTiles: 64, minDensity: 0.05, maxDensity: 0.6, shuffled: shuffled,
                seed: setup.seed)
            for (U, R) in [(8, 1), (4, 2), (2, 4), (1, 8)] {
                let plan = try DbspPlanner.balancedPlan(mask: mask, ulysses: U, ring: R)
                balance.append(
                    BalancePoint(
                        headOrder: shuffled ? "shuffled" : "ascending", ulysses: U, ring: R, density: mask.density,
                        contiguousImbalance: DbspPlan.contiguous(mask: mask, ulysses: U, ring: R).imbalance(mask),
                        balancedImbalance: plan.imbalance(mask), method: plan.method))
            }
        }
        return Report(setup: setup, speed: speed, balance: balance)
    }
}

extension SparseBenchmark.Report {
    /// The one report shape (`RunReport`): the text tables, or the JSON object.
    public var runReport: RunReport { RunReport(command: "bench sparse", seed: setup.seed, text: [text], json: json) }

    /// The JSON object (with the BLAS record, AttnKit.docc/Conventions.md).
    public var json: JSONValue {
        let s = setup
        return .object([
            ("blas", BLASInfo.current.json), ("benchmark", "sparse"), ("n", .int(s.n)), ("d", .int(s.d)),
            ("q_tile", .int(s.queryTile)), ("k_tile", .int(s.keyTile)), ("threads", .int(s.threads)),
            ("runs", .int(s.runs)), ("seed", .string(String(s.seed))),
            (
                "block_sparse",
                .array(
                    speed.map { p in
                        .object([
                            ("target_skipped_fraction", .double(p.targetSkipped)),
                            ("skipped_fraction", .double(p.skipped)),
                            ("seconds", .double(p.seconds)), ("dense_seconds", .double(p.denseSeconds)),
                            ("ideal_seconds", .double(p.idealSeconds)), ("ratio", .double(p.ratio)),
                            ("lite_seconds", .double(p.liteSeconds)), ("lite_ratio", .double(p.liteRatio)),
                        ])
                    })
            ),
            (
                "dbsp",
                .array(
                    balance.map { b in
                        .object([
                            ("head_order", .string(b.headOrder)), ("ulysses", .int(b.ulysses)), ("ring", .int(b.ring)),
                            ("density", .double(b.density)), ("rho_contiguous", .double(b.contiguousImbalance)),
                            ("rho_balanced", .double(b.balancedImbalance)), ("method", .string(b.method)),
                        ])
                    })
            ),
        ])
    }

    /// The table printed as text.
    public var text: String {
        var lines = [
            "Float32, one head, n = \(setup.n), d = \(setup.d); dense = FastAttention (default tiles), timed alternately with",
            "the block-sparse kernel and one LiteAttention step computing the same tiles at each fraction; medians of",
            "\(setup.runs); ratio = kernel / ((1−f)·dense)",
            "target skipped  actual skipped   block-sparse s    dense s   (1−f)·dense s   ratio   LiteAttention s   ratio",
        ]
        for p in speed {
            lines.append(
                String(
                    format: "%14.1f %15.3f %16.4f %10.4f %15.4f %7.3f %17.4f %7.3f", p.targetSkipped, p.skipped,
                    p.seconds, p.denseSeconds, p.idealSeconds, p.ratio, p.liteSeconds, p.liteRatio))
        }
        lines += [
            "\ndb-SP imbalance ρ, 32 heads × 64 × 64 blocks, head densities 0.05…0.6, 8 devices",
            "mask heads   U  R   density   ρ contiguous   ρ balanced   method",
        ]
        for b in balance {
            lines.append(
                String(
                    format: "%-10@ %3d %2d %9.3f %14.3f %12.3f   %@", b.headOrder, b.ulysses, b.ring,
                    b.density, b.contiguousImbalance, b.balancedImbalance, b.method))
        }
        return lines.joined(separator: "\n")
    }
}
