import AttnCore
import CBLASCore

/// Which BLAS the kernels run on, and which of its cores: printed by every
/// `bench` and recorded in every sidecar (AttnKit.docc/Conventions.md).
///
/// OpenBLAS's core is chosen when the library loads (Sources/CBLASCore):
/// a generic pre-AVX2 fallback core (Prescott, Core2, Nehalem, …) on a CPU
/// whose cpuid reports AVX-512 or AVX2 is replaced by "SkylakeX" or
/// "Haswell", unless `OPENBLAS_CORETYPE` is set (never overridden) or
/// `ATTNBOUND_BLAS_AUTOCORE=0`. Library users get this automatically: it
/// happens in a load-time constructor of the C target, before any BLAS call.
/// Checked by `BLASInfoTests`.
public struct BLASInfo: Sendable, Equatable {
    public enum Selection: String, Sendable {
        /// OpenBLAS's own choice, which is fit for the CPU.
        case asDetected = "as_detected"
        /// `OPENBLAS_CORETYPE` was set by the user; left alone.
        case userSet = "user_set"
        /// A generic fallback core was replaced by one the CPU supports.
        case autoSelected = "auto_selected"
        /// A generic core remains on a CPU that supports AVX2 or AVX-512 (opt-out, or a build without DYNAMIC_ARCH).
        case genericKept = "generic_kept"
        /// Not OpenBLAS: the core is unknown.
        case notOpenBLAS = "not_openblas"
    }

    /// "OpenBLAS", or "unknown".
    public let library: String
    /// `openblas_get_config()`: version and build options.
    public let config: String
    /// The core in use, e.g. "SkylakeX".
    public let core: String
    /// The core OpenBLAS had chosen by itself, before any selection.
    public let detectedCore: String
    /// The best core for this CPU by cpuid ("SkylakeX", "Haswell" or "").
    public let cpuBestCore: String
    public let selection: Selection

    /// The state of this process.
    public static var current: BLASInfo {
        let sel: Selection
        switch attnbound_blas_core_selection_made() {
        case ATTNBOUND_BLAS_CORE_USER_SET: sel = .userSet
        case ATTNBOUND_BLAS_CORE_AUTO_SELECTED: sel = .autoSelected
        case ATTNBOUND_BLAS_CORE_GENERIC_KEPT: sel = .genericKept
        case ATTNBOUND_BLAS_CORE_AS_DETECTED: sel = .asDetected
        default: sel = .notOpenBLAS
        }
        return BLASInfo(
            library: sel == .notOpenBLAS ? "unknown" : "OpenBLAS",
            config: String(cString: attnbound_blas_config()),
            core: String(cString: attnbound_blas_corename()),
            detectedCore: String(cString: attnbound_blas_detected_corename()),
            cpuBestCore: String(cString: attnbound_blas_cpu_best_core()),
            selection: sel)
    }

    /// True for OpenBLAS's pre-AVX2 cores (Prescott, Core2, Nehalem, Katmai, …).
    public static func isGeneric(core: String) -> Bool { attnbound_blas_core_is_generic(core) != 0 }

    /// One line for benchmark output, e.g. "BLAS: OpenBLAS 0.3.21 …, core SkylakeX (auto-selected; detected Prescott)".
    public var summary: String {
        let why: String
        switch selection {
        case .asDetected: why = "as detected"
        case .userSet: why = "from OPENBLAS_CORETYPE"
        case .autoSelected: why = "auto-selected; OpenBLAS detected \(detectedCore)"
        case .genericKept: why = "generic fallback kept"
        case .notOpenBLAS: why = "not OpenBLAS"
        }
        return "BLAS: \(config.isEmpty ? library : config), core \(core.isEmpty ? "unknown" : core) (\(why))"
    }

    /// A one-line warning when BLAS runs on a generic core while the CPU could do far better; nil otherwise.
    public var warning: String? {
        guard Self.isGeneric(core: core), !cpuBestCore.isEmpty else { return nil }
        return "warning: OpenBLAS uses the generic core \(core) on a CPU that supports \(cpuBestCore); "
            + "set OPENBLAS_CORETYPE=\(cpuBestCore) (or unset ATTNBOUND_BLAS_AUTOCORE) for 3-5x faster BLAS"
    }

    /// The sidecar/JSON form (an object under key `blas`).
    public var json: JSONValue {
        .object([
            ("library", .string(library)), ("config", .string(config)), ("core", .string(core)),
            ("core_detected", .string(detectedCore)), ("core_selection", .string(selection.rawValue)),
            ("cpu_best_core", .string(cpuBestCore)),
        ])
    }
}
