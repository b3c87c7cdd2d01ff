import AttnKernels
import Foundation
import Testing

/// The load-time OpenBLAS core selection (Sources/CBLASCore, `BLASInfo`).
/// This test process runs the whole suite under the same choice as the CLI:
/// the selection happens in the C target's constructor, linked into every
/// binary that uses AttnKernels, `swift test` included.
@Suite("BLAS core selection")
struct BLASInfoTests {
    @Test("the core in use is not a generic fallback when the CPU supports AVX2/AVX-512 and OPENBLAS_CORETYPE is unset")
    func coreFitsCPU() {
        let info = BLASInfo.current
        let env = ProcessInfo.processInfo.environment
        guard info.selection != .notOpenBLAS else { return }
        #expect(!info.config.isEmpty && !info.core.isEmpty, "\(info)")
        if let user = env["OPENBLAS_CORETYPE"], !user.isEmpty {
            // Set by the user before start-up: left alone. (The constructor exports
            // its own choice too, so `userSet` is what a child process sees.)
            #expect(info.selection == .userSet || info.selection == .autoSelected)
            return
        }
        if env["ATTNBOUND_BLAS_AUTOCORE"] == "0" { return }
        if !info.cpuBestCore.isEmpty {
            #expect(!BLASInfo.isGeneric(core: info.core), "\(info.summary)")
            #expect(info.warning == nil)
        }
        if info.cpuBestCore == "SkylakeX", BLASInfo.isGeneric(core: info.detectedCore) {
            #expect(info.core == "SkylakeX" && info.selection == .autoSelected, "\(info.summary)")
        }
    }

    @Test("generic cores are recognised; fit ones are not")
    func genericNames() {
        for n in ["Prescott", "core2", "Nehalem", "Katmai", "Unknown"] { #expect(BLASInfo.isGeneric(core: n), "\(n)") }
        for n in ["SkylakeX", "Haswell", "Zen", "Cooperlake"] { #expect(!BLASInfo.isGeneric(core: n), "\(n)") }
    }
}
