import AttnBlockSparse
import AttnCore
import Testing

/// `DbspVerification`: the `dbsp plan --ranks-out` check, in the library.
@Suite struct DbspVerificationTests {
    @Test func balancedPlanIsBitwiseEqualAndReportsEveryDevice() throws {
        let mask = SyntheticMasks.headVarying(
            heads: 4, qTiles: 6, kTiles: 6, minDensity: 0.1, maxDensity: 0.7,
            shuffled: true, seed: 3)
        let plan = try DbspPlanner.balancedPlan(mask: mask, ulysses: 2, ring: 2)
        let r = try DbspVerification.run(plan: plan, mask: mask, blockSize: 8, headDim: 4, seed: 5, threads: 2)
        #expect(r.bitwiseEqual && r.maxAbsDifference == 0)
        try r.check()
        #expect(r.csvRows.count == 4 && r.csvRows.allSatisfy { $0.count == DbspVerification.csvHeader.count })
        #expect(r.ranks.reduce(0) { $0 + $1.tiles } == mask.computedCount)
    }

    @Test func beyondFourGigabytesIsInfeasibleNamingTheOutput() throws {
        let mask = TileMask(heads: 64, qTiles: 512, kTiles: 512)
        let plan = DbspPlan.contiguous(mask: mask, ulysses: 1, ring: 1)
        #expect(throws: AttnError.infeasible(.ranksOutput, "Q, K, V of 64 heads × 65536 tokens × 128 exceed 4 GB")) {
            try DbspVerification.run(plan: plan, mask: mask, blockSize: 128, headDim: 128, seed: 1, threads: 1)
        }
    }

    @Test func candidateRowsMatchTheHeader() throws {
        let mask = SyntheticMasks.headVarying(
            heads: 4, qTiles: 4, kTiles: 4, minDensity: 0.2, maxDensity: 0.6,
            shuffled: false, seed: 1)
        let model = DbspCostModel(
            denseSeconds: 1, launchSeconds: 1e-5, bandwidth: 2.5e10, latencySeconds: 1e-5,
            tokens: 256, heads: 4, headDim: 64, bytesPerElement: 2)
        let cands = try DbspPlanner.select(mask: mask, devices: 4, model: model)
        #expect(cands.filter(\.chosen).count == 1)
        for c in cands { #expect(c.csvFields(density: mask.density).count == DbspCandidate.csvHeader.count) }
    }
}
