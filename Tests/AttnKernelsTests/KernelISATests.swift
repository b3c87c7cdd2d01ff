import AttnKernels
import Testing

/// KernelISA's short names: every copy has one, they round-trip, and unknown names are nil.
struct KernelISATests {
    @Test func namesRoundTrip() {
        #expect(KernelISA.names.compactMap(KernelISA.init(name:)) == KernelISA.allCases)
        #expect(KernelISA(name: "AVX512") == .avx512)
        #expect(KernelISA(name: "sse9") == nil && KernelISA(name: "") == nil)
    }
}
