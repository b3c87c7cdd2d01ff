extension KernelISA {
    /// The short names of the copies, as a front end spells them: auto, baseline, avx2, avx512.
    public static let names = ["auto", "baseline", "avx2", "avx512"]

    /// The copy named `name` (case-insensitive), or nil.
    public init?(name: String) {
        guard let i = Self.names.firstIndex(of: name.lowercased()) else { return nil }
        self = Self.allCases[i]
    }
}
