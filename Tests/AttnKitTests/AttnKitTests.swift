import AttnKit
import Testing

/// `import AttnKit` alone reaches every public module: one name from each.
struct AttnKitTests {
    @Test func reExportsEveryModule() {
        let names = [
            String(describing: Tensor<Double>.self),  // AttnCore
            String(describing: TileSizes.self),  // AttnKernels
            String(describing: CertifiedAttention.self),  // AttnCertified
            String(describing: PolyPlan.self),  // AttnPoly
            String(describing: PagedAttention.self),  // AttnPaged
            String(describing: TileMask.self),  // AttnBlockSparse
            String(describing: VisiPruner.self),  // AttnPruning
            String(describing: SweepRunner.self),  // AttnExperiments
        ]
        #expect(names.count == Set(names).count)
        #expect(AttnVersion.current.split(separator: ".").count == 3)
    }
}
