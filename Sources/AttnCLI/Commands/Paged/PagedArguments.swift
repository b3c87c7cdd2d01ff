import ArgumentParser
import AttnCore
import AttnPaged
import Foundation

extension PolicyKind: ExpressibleByArgument {}
extension DigestKind: ExpressibleByArgument {}
extension ScoreReduction: ExpressibleByArgument {}

/// Policy options shared by `kv-replay` and `bench paged`.
struct PolicyOptions: ParsableArguments {
    @Option(help: "KV budget in tokens (whole pages are kept; must be at least one page).")
    var budget: Int

    @Option(help: "Page size in tokens.")
    var pageSize: Int = 32

    @Option(help: "Attention-sink pages (arkvale, streaming).")
    var sinkPages: Int = 1

    @Option(help: "Recent-window pages always resident (arkvale).")
    var windowPages: Int = 2

    @Option(help: "ArkVale top-k pages (default: half the budget's pages).")
    var topk: Int?

    @Option(
        help: "Digest for selection: aabb, cuboid-mean, sphere-max (default: cuboid-mean for arkvale, aabb otherwise).")
    var digest: DigestKind?

    @Option(
        help: "Score reduction over a query group: per-head, mean, max (default: mean for arkvale, per-head otherwise)."
    )
    var reduction: ScoreReduction?

    @Option(help: "steady: reuse a selection for at most this many steps.")
    var steadyReuse: Int = 4

    @Option(help: "steady: drift test threshold on cos(q, q_ref), in [-1, 1].")
    var steadyCosine: Double = 0.95

    func validate() throws {
        guard (1...1 << 30).contains(budget) else { throw ValidationError("--budget must be in 1...\(1 << 30) tokens") }
        guard (1...65536).contains(pageSize) else { throw ValidationError("--page-size must be in 1...65536 tokens") }
        guard budget >= pageSize else {
            throw ValidationError("--budget \(budget) is smaller than one page (--page-size \(pageSize))")
        }
        guard sinkPages >= 0, windowPages >= 1 else {
            throw ValidationError("--sink-pages must be ≥ 0 and --window-pages ≥ 1")
        }
        if let topk, topk < 1 { throw ValidationError("--topk must be at least 1") }
        guard steadyReuse >= 1 else { throw ValidationError("--steady-reuse must be at least 1") }
        guard steadyCosine.isFinite, (-1...1).contains(steadyCosine) else {
            throw ValidationError("--steady-cosine must be in [-1, 1]")
        }
    }

    var config: PolicyConfig {
        var c = PolicyConfig(budgetTokens: budget)
        c.sinkPages = sinkPages
        c.windowPages = windowPages
        c.topkPages = topk
        c.digest = digest
        c.reduction = reduction
        c.steadyMaxReuse = steadyReuse
        c.steadyCosine = steadyCosine
        return c
    }
}
