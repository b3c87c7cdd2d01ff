import AttnCore
import Foundation

/// One `kv-replay` run as typed parameters: where K, V and Q come from, the policy and its
/// budget, the scale. `run` validates, replays every decode step (`KVReplay.run`), and
/// returns the one report shape: a CSV row per step and query head (`ReplayRecord`), the
/// summary (`ReplaySummary`), and a failure when a certified bound fell below a measured error.
public struct KVReplayRequest: Sendable {
    /// The seeded shifting-importance trace (`SyntheticTrace`), sized by five numbers. The
    /// passkey sits in the prompt's middle page and is asked for from three quarters of the steps on.
    public struct Synthetic: Sendable, Equatable {
        public var seed: UInt64 = 1
        public var context = 8192
        public var steps = 64
        public var kvHeads = 4
        public var group = 2
        public var dim = 128
        public init() {}
    }

    /// Where the tensors come from.
    public enum Workload: Sendable, Equatable {
        /// `.npy` paths, read by `AttentionTensors` (2-D to 4-D, float16/32/64, GQA).
        case files(q: String, k: String, v: String)
        case synthetic(Synthetic)
    }

    public var workload: Workload
    public var policy: PolicyKind = .arkvale
    public var config: PolicyConfig
    public var pageSize = 32
    public var scale: Scale = .standard

    public init(workload: Workload, config: PolicyConfig) {
        self.workload = workload
        self.config = config
    }

    /// Checks every parameter on its own, before any file is read.
    /// - Throws: `AttnError.usage` naming the parameter out of range.
    public func validate() throws {
        try config.validate(pageSize: pageSize)
        guard case .synthetic(let s) = workload else { return }
        try Parameter.context.require(s.context, in: 1...(1 << 20))
        try Parameter.steps.require(s.steps, in: 1...100_000)
        try Parameter.kvHeads.require(s.kvHeads, in: 1...64)
        try Parameter.group.require(s.group, in: 1...64)
        try Parameter.dim.require(s.dim, in: 2...1024)
    }

    /// The trace's parameters: d = d_v = `dim`, the passkey in the prompt's middle page.
    func traceParameters(_ s: Synthetic) -> SyntheticTrace.Parameters {
        var p = SyntheticTrace.Parameters()
        (p.prefill, p.steps, p.kvHeads, p.groupSize, p.d, p.dv) = (s.context, s.steps, s.kvHeads, s.group, s.dim, s.dim)
        (p.pageSize, p.seed) = (pageSize, s.seed)
        p.passkeyPage = max(0, s.context / pageSize / 2 - 1)
        p.askStep = s.steps * 3 / 4
        return p
    }

    /// Replays every step; `note` receives a progress line every 16 steps and at the end.
    /// - Returns: the report (failure set if any row's error exceeds its bound plus the
    ///   yardstick's own bound) and the records, for the selected pages (`SelectionCSV`).
    /// - Throws: `AttnError.usage` for invalid parameters or inputs (`KVReplay.validate`).
    public func run(note: @escaping (String) -> Void = { _ in }) throws -> (report: RunReport, records: [ReplayRecord])
    {
        try validate()
        let keys: Tensor<Float>, values: Tensor<Float>, queries: Tensor<Float>
        var prefill: [Float]? = nil, askStep = 0, seed: UInt64? = nil
        var params: [(String, JSONValue)]
        switch workload {
        case .synthetic(let s):
            let p = traceParameters(s)
            let trace = try SyntheticTrace(p)
            (keys, values, queries, prefill, askStep, seed) =
                (trace.keys, trace.values, trace.queries, trace.prefillQueries, p.askStep, s.seed)
            params = [
                ("workload", "synthetic"), ("seed", .string(String(s.seed))), ("context", .int(s.context)),
                ("kv_heads", .int(s.kvHeads)), ("group", .int(s.group)), ("d", .int(s.dim)),
                ("passkey_page", .int(p.passkeyPage)), ("ask_step", .int(p.askStep)),
            ]
        case .files(let q, let k, let v):
            let t = try AttentionTensors<Float>(q: q, k: k, v: v)
            (keys, values, queries) = (t.k, t.v, t.q)
            params = [("workload", "files"), ("k", .string(k)), ("v", .string(v)), ("q", .string(q))]
        }
        let (records, refs) = try KVReplay.run(
            keys: keys, values: values, queries: queries, prefillQueries: prefill, policy: policy, config: config,
            pageSize: pageSize, scale: scale
        ) { done, total in
            if done % 16 == 0 || done == total { note("kv-replay: step \(done)/\(total)") }
        }
        let s = ReplaySummary(policy: policy.rawValue, records: records, referenceBounds: refs, lateFrom: askStep)
        params += [
            ("policy", .string(policy.rawValue)), ("budget", .int(config.budgetTokens)), ("page_size", .int(pageSize)),
            ("scale", .string(scale.description)),
        ]
        let summary = s.fields(recallK: policy.scoredPages(config: config, pageSize: pageSize))
        let text =
            ["policy \(policy.rawValue), budget \(config.budgetTokens) tokens, page size \(pageSize), \(s.steps) steps"]
            + summary.map { "  \($0.0): \($0.1.serialized())" }
        let failure =
            s.violations == 0
            ? nil : AttnError.checkFailed("the certified bound was below the measured error in \(s.violations) rows")
        let report = RunReport(
            command: "kv-replay", parameters: params, seed: seed, summary: summary,
            table: .init(header: ReplayRecord.csvHeader, rows: records.map(\.csvFields)), text: text, failure: failure)
        return (report, records)
    }
}

extension ReplaySummary {
    /// The summary of a `kv-replay` run (its `--json` keys after the parameters).
    public func fields(recallK: Int) -> [(String, JSONValue)] {
        let digests: [(String, JSONValue)] = digestRecall.map {
            ($0.digest.rawValue, .object([("recall_at_1", .double($0.at1)), ("recall_at_k", .double($0.atK))]))
        }
        return [
            ("steps", .int(steps)), ("recall_k", .int(recallK)), ("mean_recall_at_1", .double(meanRecallAt1)),
            ("mean_recall_at_k", .double(meanRecallAtK)), ("digest_recall", .object(digests)),
            ("mean_attended_recall", .double(meanAttendedRecall)), ("max_abs_error", .double(maxError)),
            ("mean_abs_error", .double(meanError)), ("max_error_bound", .double(maxBound)),
            ("median_bound_to_error", .double(medianBoundRatio)), ("bound_violations", .int(violations)),
            ("pages_recalled", .int(pagesRecalled)), ("bytes_recalled", .int(bytesRecalled)),
            ("scoring_saved", .double(scoringSaved)), ("median_step_seconds", .double(medianStepSeconds)),
        ]
    }
}

extension PolicyConfig {
    /// Checks each parameter on its own; `PolicyKind.make` checks that they fit the layout together.
    /// - Throws: `AttnError.usage` naming the parameter out of range.
    public func validate(pageSize: Int) throws {
        try Parameter.budget.require(budgetTokens, in: 1...(1 << 30))
        try Parameter.pageSize.require(pageSize, in: 1...65536)
        try Parameter.budget.require(
            budgetTokens >= pageSize, "\(budgetTokens) tokens is smaller than one page (page size \(pageSize))")
        try Parameter.sinkPages.require(sinkPages >= 0, "must be ≥ 0")
        try Parameter.windowPages.require(windowPages >= 1, "must be ≥ 1")
        try Parameter.topkPages.require((topkPages ?? 1) >= 1, "must be at least 1")
        try Parameter.steadyReuse.require(steadyMaxReuse >= 1, "must be at least 1")
        try Parameter.steadyCosine.require(
            steadyCosine.isFinite && (-1...1).contains(steadyCosine), "must be in [-1, 1]")
    }
}
