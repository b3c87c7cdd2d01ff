import ArgumentParser
import AttnCore
import AttnPaged
import Foundation

/// `attnbound kv-replay`: decode steps over a paged KV cache with one policy,
/// each step measured against exact attention and certified.
struct KVReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv-replay",
        abstract: "Replay decode steps over a paged KV cache with a selection policy.",
        discussion: """
            K [kv_heads, n, d], V [kv_heads, n, d_v], Q [q_heads, T, d] (q_heads a multiple of kv_heads, T ≤ n): \
            the first n − T tokens are the prompt, step t appends token n − T + t and attends with Q[:, t]. \
            One CSV row per step and query head: recall accuracy, error vs exact attention, the certified bound, traffic, time.
            """)

    @Option(help: "Keys .npy, [n, d] or [kv_heads, n, d] (not with --synthetic).")
    var k: String?

    @Option(help: "Values .npy, [n, d_v] or [kv_heads, n, d_v] (not with --synthetic).")
    var v: String?

    @Option(help: "Decode-step queries .npy, [T, d] or [q_heads, T, d] (not with --synthetic).")
    var q: String?

    @Flag(help: "Use the seeded shifting-importance trace instead of files.")
    var synthetic = false

    @Option(help: "Seed of the synthetic trace.")
    var seed: UInt64 = 1

    @Option(help: "Synthetic: prompt tokens.")
    var context: Int = 8192

    @Option(help: "Synthetic: decode steps.")
    var steps: Int = 64

    @Option(help: "Synthetic: KV heads.")
    var kvHeads: Int = 4

    @Option(help: "Synthetic: query heads per KV head.")
    var group: Int = 2

    @Option(help: "Synthetic: head dimension d (= d_v).")
    var dim: Int = 128

    @Option(help: "Selection policy: arkvale, arkvale-topk, quest, streaming, h2o, steady.")
    var policy: PolicyKind = .arkvale

    @OptionGroup var policyOptions: PolicyOptions

    @Option(help: "Softmax scale s: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.")
    var scale: Scale = .standard

    @Option(name: [.customLong("out"), .short],
            help: "CSV output, one row per step and query head (a .json sidecar is written beside it).")
    var out: String?

    @Option(help: "CSV of the pages each query head attended: step,head,selected_pages (pages from 0, ascending, space-separated).")
    var selectionOut: String?

    @Option(name: .customLong("csv"), help: .hidden)
    var legacyCSV: String?

    /// The CSV to write (`--out`, or the hidden former `--csv`).
    var csv: String? { out ?? legacyCSV }

    @Flag(help: "Print one JSON object instead of a summary.")
    var json = false

    func validate() throws {
        _ = try resolvedOutput(out, legacy: legacyCSV, legacyFlag: "--csv")
        if synthetic {
            guard k == nil, v == nil, q == nil else { throw ValidationError("--synthetic takes no --k, --v or --q") }
            guard (1...1 << 20).contains(context) else { throw ValidationError("--context must be in 1...\(1 << 20)") }
            guard (1...100_000).contains(steps) else { throw ValidationError("--steps must be in 1...100000") }
            guard (1...64).contains(kvHeads), (1...64).contains(group) else { throw ValidationError("--kv-heads and --group must be in 1...64") }
            guard (2...1024).contains(dim) else { throw ValidationError("--dim must be in 2...1024") }
        } else {
            guard k != nil, v != nil, q != nil else { throw ValidationError("need --k, --v and --q (or --synthetic)") }
        }
        if let csv { try validateOutputPath(csv, flag: "--out") }
        if let selectionOut { try validateOutputPath(selectionOut, flag: "--selection-out") }
    }

    func run() throws {
        let keys: Tensor<Float>, values: Tensor<Float>, queries: Tensor<Float>
        var prefill: [Float]? = nil, askStep = 0
        var workload: [(String, JSONValue)]
        if synthetic {
            var p = SyntheticTrace.Parameters()
            (p.prefill, p.steps, p.kvHeads, p.groupSize, p.d, p.dv) = (context, steps, kvHeads, group, dim, dim)
            p.pageSize = policyOptions.pageSize
            p.passkeyPage = max(0, context / policyOptions.pageSize / 2 - 1)
            p.askStep = steps * 3 / 4
            p.seed = seed
            let trace = try SyntheticTrace(p)
            (keys, values, queries, prefill, askStep) = (trace.keys, trace.values, trace.queries, trace.prefillQueries, p.askStep)
            workload = [("workload", "synthetic"), ("seed", .string(String(seed))), ("context", .int(context)),
                        ("kv_heads", .int(kvHeads)), ("group", .int(group)), ("d", .int(dim)),
                        ("passkey_page", .int(p.passkeyPage)), ("ask_step", .int(p.askStep))]
        } else {
            let t = try AttentionTensors<Float>(q: q!, k: k!, v: v!)  // the one reader: 4-D, float16, GQA
            (keys, values, queries) = (t.k, t.v, t.q)
            workload = [("workload", "files"), ("k", .string(k!)), ("v", .string(v!)), ("q", .string(q!))]
        }
        let (records, refs) = try KVReplay.run(keys: keys, values: values, queries: queries, prefillQueries: prefill,
                                               policy: policy, config: policyOptions.config, pageSize: policyOptions.pageSize,
                                               scale: scale) { done, total in
            if done % 16 == 0 || done == total { printNote("kv-replay: step \(done)/\(total)") }
        }
        let s = ReplaySummary(policy: policy.rawValue, records: records, referenceBounds: refs, lateFrom: askStep)
        let params: [(String, JSONValue)] = workload + [
            ("policy", .string(policy.rawValue)), ("budget", .int(policyOptions.budget)), ("page_size", .int(policyOptions.pageSize)),
            ("scale", .string(scale.description))]
        if let csv {
            var text = CSV.row(ReplayRecord.csvHeader)
            for r in records { text += CSV.row(r.csvFields) }
            let sidecar = JSONValue.object([("command", "kv-replay"), ("version", .string(Attnbound.version))] + params
                                           + [("machine", machineDescription())])
            let url = URL(fileURLWithPath: csv)
            try AtomicFile.write(text, to: url)
            try AtomicFile.write(sidecar.serialized() + "\n", to: url.deletingPathExtension().appendingPathExtension("json"))
        }
        if let selectionOut { try AtomicFile.write(SelectionCSV.text(records), to: URL(fileURLWithPath: selectionOut)) }
        let digests: [(String, JSONValue)] = s.digestRecall.map {
            ($0.digest.rawValue, .object([("recall_at_1", .double($0.at1)), ("recall_at_k", .double($0.atK))]))
        }
        let summary: [(String, JSONValue)] = [
            ("steps", .int(s.steps)), ("recall_k", .int(policy.scoredPages(config: policyOptions.config, pageSize: policyOptions.pageSize))),
            ("mean_recall_at_1", .double(s.meanRecallAt1)), ("mean_recall_at_k", .double(s.meanRecallAtK)),
            ("digest_recall", .object(digests)), ("mean_attended_recall", .double(s.meanAttendedRecall)), ("max_abs_error", .double(s.maxError)),
            ("mean_abs_error", .double(s.meanError)), ("max_error_bound", .double(s.maxBound)),
            ("median_bound_to_error", .double(s.medianBoundRatio)), ("bound_violations", .int(s.violations)),
            ("pages_recalled", .int(s.pagesRecalled)), ("bytes_recalled", .int(s.bytesRecalled)),
            ("scoring_saved", .double(s.scoringSaved)), ("median_step_seconds", .double(s.medianStepSeconds))]
        if json {
            print(JSONValue.object(params + summary).serialized())
        } else {
            print("policy \(policy.rawValue), budget \(policyOptions.budget) tokens, page size \(policyOptions.pageSize), \(s.steps) steps")
            for (key, value) in summary { print("  \(key): \(value.serialized())") }
        }
        if s.violations > 0 {
            throw AttnError.checkFailed("the certified bound was below the measured error in \(s.violations) rows")
        }
    }
}
