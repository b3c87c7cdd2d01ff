import AttnCore
import AttnKernels
import Foundation

/// Runs a db-SP plan on seeded inputs with simulated devices and checks that the
/// result is bitwise the unpartitioned block-sparse one (Proofs/dbsp-exactness.md:
/// the permutation changes no floating-point operation). Checked by `DbspTests`.
public struct DbspVerification: Sendable {
    /// Per simulated device: its work and communication.
    public let ranks: [DbspRankReport]
    /// True iff the partitioned output equals the unpartitioned one bit for bit.
    public let bitwiseEqual: Bool
    /// max |partitioned − unpartitioned| (0 when `bitwiseEqual`).
    public let maxAbsDifference: Double

    /// - Parameters:
    ///   - blockSize: tokens per block (the mask's tile, both ways).
    ///   - seed: Float32 Q, K, V uniform in [−1, 1] (`InputDistribution.attentionInputs`), scale 1/√d.
    /// - Throws: `AttnError.infeasible` (parameter `.ranksOutput`) beyond 4 GB of inputs, and the
    ///   kernels' errors.
    public static func run(
        plan: DbspPlan, mask: TileMask, blockSize: Int, headDim: Int, seed: UInt64,
        threads: Int?
    ) throws -> DbspVerification {
        let nq = mask.qTiles * blockSize, nk = mask.kTiles * blockSize
        guard Double(mask.heads) * Double(nq + 2 * nk) * Double(headDim) * 4 <= 4e9 else {
            throw AttnError.infeasible(
                .ranksOutput, "Q, K, V of \(mask.heads) heads × \(max(nq, nk)) tokens × \(headDim) exceed 4 GB")
        }
        let (q, k, v): (Tensor<Float>, Tensor<Float>, Tensor<Float>) = InputDistribution.uniform.attentionInputs(
            heads: mask.heads, queries: nq, keys: nk, d: headDim, seed: seed)
        let tiles = TileSizes(queryTile: blockSize, keyTile: blockSize)
        let single = try BlockSparseAttention.compute(
            q: q, k: k, v: v, scale: .standard, mask: mask, tiles: tiles, threads: threads)
        let (o, ranks) = try DbspExecution.run(
            q: q, k: k, v: v, scale: .standard, mask: mask, blockSize: blockSize, plan: plan, threads: threads)
        let equal = o.storage == single.output.storage
        return DbspVerification(
            ranks: ranks, bitwiseEqual: equal, maxAbsDifference: equal ? 0 : ErrorMetrics.maxAbsDiff(o, single.output))
    }

    /// The columns of the per-device CSV.
    public static let csvHeader = [
        "device", "ulysses_index", "ring_index", "tiles", "max_step_tiles", "ring_bytes", "all_to_all_bytes",
    ]

    /// One row per simulated device.
    public var csvRows: [[String]] {
        ranks.enumerated().map { i, r in
            [
                String(i), String(r.ulyssesIndex), String(r.ringIndex), String(r.tiles),
                String(r.tilesPerStep.max() ?? 0), String(r.ringBytes), String(r.allToAllBytes),
            ]
        }
    }

    /// - Throws: `AttnError.checkFailed` unless the outputs are bitwise equal.
    public func check() throws {
        guard bitwiseEqual else {
            throw AttnError.checkFailed(
                "db-SP execution differs from the unpartitioned block-sparse result (max |Δ| = \(maxAbsDifference))")
        }
    }
}

extension DbspCandidate {
    /// The columns of the `dbsp plan` CSV, one row per (U, R).
    public static let csvHeader = [
        "ulysses", "ring", "density", "rho_contiguous", "rho_balanced", "method", "moved_blocks",
        "all_to_all_seconds", "compute_seconds", "p2p_seconds", "latency_seconds", "chosen",
    ]

    /// This candidate's row; `density` is the mask's.
    public func csvFields(density: Double) -> [String] {
        let n = CSV.number
        return [
            String(ulysses), String(ring), n(density), n(contiguousImbalance), n(balancedImbalance), plan.method,
            String(plan.movedBlocks()), n(latency.allToAll), n(latency.compute), n(latency.p2p), n(latency.total),
            chosen ? "1" : "0",
        ]
    }
}
