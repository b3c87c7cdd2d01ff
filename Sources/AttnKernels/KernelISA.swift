import CVectorMath

/// Instruction set of the fused exact kernel (Sources/CVectorMath/fused_attention.c).
/// `.auto` takes the best the CPU supports, or `ATTNBOUND_KERNEL_ISA=baseline|avx2`
/// from the environment; asking for more than the CPU has gives what it has.
/// Every copy runs the same algorithm in the same order: only lane counts and
/// register tiles differ, and the error bound is the same.
public enum KernelISA: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case auto = 0
    case baseline = 1
    case avx2 = 2
    case avx512 = 3

    /// The copy a call with this request runs on this machine.
    public var resolved: KernelISA { KernelISA(rawValue: attnbound_fused_isa(rawValue)) ?? .baseline }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .baseline: "baseline (SSE2)"
        case .avx2: "AVX2"
        case .avx512: "AVX-512"
        }
    }
}
