import AttnCore

extension PolyBenchmark.Setup {
    /// - Throws: `AttnError.usage` naming the parameter out of range.
    public func validate() throws {
        guard (4...22).contains(minLog2) else { throw AttnError.usage(.minLog2, "must be in 4...22") }
        guard (minLog2...22).contains(maxLog2) else { throw AttnError.usage(.maxLog2, "must be in \(minLog2)...22") }
        guard (4...17).contains(exactMaxLog2) else { throw AttnError.usage(.exactMaxLog2, "must be in 4...17") }
        guard (1...16).contains(d) else { throw AttnError.usage(.d, "must be in 1...16") }
        guard B.isFinite, B > 0 else { throw AttnError.usage(.B, "must be positive and finite") }
        guard epsilon.isFinite, epsilon > 0, epsilon < 1 else { throw AttnError.usage(.epsilon, "must be in (0, 1)") }
        guard (1...1000).contains(runs) else { throw AttnError.usage(.runs, "must be in 1...1000") }
    }
}

extension PolyBenchmark {
    /// `bench poly` as one call: validates, times (`run(_:progress:)`) and reports the table and
    /// JSON with the load average at the end of the run. `progress(n)` after each size.
    public static func report(_ s: Setup, progress: (Int) -> Void = { _ in }) throws -> RunReport {
        try s.validate()
        let r = try run(s, progress: progress)
        let load = Timing.loadAverage()
        return RunReport(
            command: "bench poly", text: [r.text(s, loadAverage: load)], json: r.json(s, loadAverage: load))
    }
}
