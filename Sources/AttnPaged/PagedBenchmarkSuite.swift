import AttnCore
import AttnKernels
import Foundation

/// `bench paged` as one request: one timing table per query-group size (`PagedBenchmark.run`),
/// then, optionally, the accuracy table of every policy on the shifting-importance trace
/// (`PagedBenchmark.accuracy`).
public struct PagedBenchmarkSuite: Sendable {
    /// Context, d, KV heads, page size, budget, runs, threads and seed of the timing tables
    /// (its `groupSize` is replaced by each of `groups`).
    public var setup = PagedBenchmark.Setup()
    /// Query heads per KV head, one timing table each (1 = MHA).
    public var groups = [1, 4]
    public var accuracy = true
    /// The accuracy trace: prompt tokens, decode steps, budget in tokens.
    public var accuracyContext = 8192
    public var accuracySteps = 64
    public var accuracyBudget = 1024

    public init() {}

    /// - Throws: `AttnError.usage` naming the parameter out of range; `AttnError.infeasible`
    ///   when K and V would not fit in 80 % of this machine's memory.
    public func validate() throws {
        let s = setup
        try Parameter.context.require(s.context, in: 64...(1 << 20))
        try Parameter.d.require(s.d, in: 1...1024)
        try Parameter.kvHeads.require(s.kvHeads, in: 1...256)
        try Parameter.groups.require(
            !groups.isEmpty && groups.allSatisfy { (1...64).contains($0) }, "must be in 1...64")
        try Parameter.pageSize.require(s.pageSize, in: 1...65536)
        try Parameter.budget.require(
            s.budgetTokens >= s.pageSize, "\(s.budgetTokens) tokens is smaller than one page (page size \(s.pageSize))")
        try Parameter.budget.require(s.budgetTokens < s.context, "must be below the context (\(s.context) tokens)")
        try Parameter.accuracyContext.require(accuracyContext, in: 256...(1 << 20))
        try Parameter.accuracySteps.require(accuracySteps, in: 2...10_000)
        try Parameter.accuracyBudget.require(accuracyBudget >= s.pageSize, "must be at least one page")
        let bytes = Double(s.context) * Double(s.kvHeads) * Double(2 * s.d) * 4 * 4
        guard bytes < Double(ProcessInfo.processInfo.physicalMemory) * 0.8 else {
            throw AttnError.infeasible(
                .context, "\(s.context) tokens × \(s.kvHeads) KV heads needs about \(Int(bytes / 1e9)) GB")
        }
    }

    /// Runs every table; `note` receives one progress line per finished figure.
    public func run(note: (String) -> Void = { _ in }) throws -> RunReport {
        try validate()
        var timings: [JSONValue] = [], text: [String] = [], copies: [Double] = []
        for g in groups {
            var s = setup
            s.groupSize = g
            let r = try PagedBenchmark.run(s) { note("bench paged (group \(g)): " + $0) }
            timings.append(r.json)
            copies.append(r.copyGBs)
            text.append(r.text)
        }
        var accuracyRows: [JSONValue] = []
        if accuracy {
            var p = SyntheticTrace.Parameters()
            (p.prefill, p.steps, p.pageSize, p.seed) = (accuracyContext, accuracySteps, setup.pageSize, setup.seed)
            p.passkeyPage = accuracyContext / setup.pageSize / 2 - 1
            p.askStep = accuracySteps * 3 / 4
            let rows = try PagedBenchmark.accuracy(
                trace: try SyntheticTrace(p), policies: PolicyKind.allCases, budgetTokens: accuracyBudget,
                threads: setup.threads
            ) { note("bench paged accuracy: " + $0) }
            accuracyRows = rows.map(\.benchmarkJSON)
            text += [
                "accuracy: shifting-importance trace, prompt \(accuracyContext), \(accuracySteps) steps (passkey asked "
                    + "from step \(p.askStep)), \(p.kvHeads) KV heads × \(p.groupSize), d \(p.d), page \(setup.pageSize), "
                    + "budget \(accuracyBudget), seed \(setup.seed)",
                ReplaySummary.benchmarkTable(rows),
            ]
        }
        let s = setup
        let parameters: [(String, JSONValue)] = [
            ("context", .int(s.context)), ("d", .int(s.d)), ("kv_heads", .int(s.kvHeads)),
            ("page_size", .int(s.pageSize)), ("budget", .int(s.budgetTokens)), ("threads", .int(s.threads)),
            ("runs", .int(s.runs)), ("seed", .string(String(s.seed))),
        ]
        let json = JSONValue.object(
            [("blas", BLASInfo.current.json), ("benchmark", "paged")] + parameters
                + [("copy_gbs", .double(Timing.median(of: copies))), ("timings", .array(timings))]
                + [("accuracy", .array(accuracyRows))])
        return RunReport(
            command: "bench paged", parameters: parameters, seed: s.seed, text: text, json: json)
    }
}
