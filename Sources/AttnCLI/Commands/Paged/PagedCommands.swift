import ArgumentParser
import AttnKit
import Foundation

extension PolicyKind: ExpressibleByArgument {}
extension DigestKind: ExpressibleByArgument {}
extension ScoreReduction: ExpressibleByArgument {}

struct PolicyOptions: ParsableArguments, PolicyConfigSource {
    @Option(help: "KV budget in tokens (whole pages are kept; at least one page).") var budget: Int
    @Option(help: "Page size in tokens.") var pageSize = 32
    @Option(help: "Attention-sink pages (arkvale, streaming).") var sinkPages = 1
    @Option(help: "Recent-window pages always resident (arkvale).") var windowPages = 2
    @Option(help: "ArkVale top-k pages (default: half the budget's pages).") var topk: Int?
    @Option(help: "aabb, cuboid-mean or sphere-max (default: cuboid-mean for arkvale).") var digest: DigestKind?
    @Option(help: "Group score: mean (default: one set per KV group), max or per-head.") var reduction: ScoreReduction?
    @Option(help: "steady: reuse a selection for at most this many steps.") var steadyReuse = 4
    @Option(help: "steady: drift test threshold on cos(q, q_ref), in [-1, 1].") var steadyCosine = 0.95
}

struct KVReplayCommand: ParsableCommand {
    static let configuration = command(
        "kv-replay", "Replay decode steps over a paged KV cache with a page policy.",
        discussion: "Step t appends token n − T + t (the first n − T are the prompt) and attends with Q[:, t].")
    @Option(help: "Keys .npy, [n, d] or [kv_heads, n, d].") var k: String?
    @Option(help: "Values .npy, [n, d_v] or [kv_heads, n, d_v].") var v: String?
    @Option(help: "Decode-step queries .npy, [T, d] or [q_heads, T, d]; q_heads a multiple of kv_heads.") var q: String?
    @Flag(help: "Use the seeded shifting-importance trace instead of files.") var synthetic = false
    @Option(help: "Seed of the synthetic trace.") var seed: UInt64 = 1
    @Option(help: "Synthetic: prompt tokens.") var context = 8192
    @Option(help: "Synthetic: decode steps.") var steps = 64
    @Option(help: "Synthetic: KV heads.") var kvHeads = 4
    @Option(help: "Synthetic: query heads per KV head.") var group = 2
    @Option(help: "Synthetic: head dimension d (= d_v).") var dim = 128
    @Option(help: "arkvale, arkvale-topk, quest, streaming, h2o or steady.") var policy = PolicyKind.arkvale
    @OptionGroup var policyOptions: PolicyOptions
    @Option(help: "Softmax scale: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.") var scale = Scale.standard
    @OptionGroup var output: OutputOption
    @Option(help: "CSV step,head,selected_pages: the pages each query head attended.") var selectionOut: String?
    @OptionGroup var json: JSONOption
    func validate() throws {
        let files = [k, v, q].compactMap { $0 }.count
        if files != (synthetic ? 0 : 3) { throw ValidationError("give --k, --v and --q, or --synthetic") }
        if let s = selectionOut { try validateOutputPath(s, flag: "--selection-out") }
    }
    func run() throws {
        var s = KVReplayRequest.Synthetic()
        (s.seed, s.context, s.steps, s.kvHeads, s.group, s.dim) = (seed, context, steps, kvHeads, group, dim)
        let workload = synthetic ? KVReplayRequest.Workload.synthetic(s) : .files(q: q!, k: k!, v: v!)
        var r = KVReplayRequest(workload: workload, config: policyOptions.config)
        (r.policy, r.pageSize, r.scale) = (policy, policyOptions.pageSize, scale)
        let (report, records) = try r.run(note: printNote)
        if let s = selectionOut { try AtomicFile.write(SelectionCSV.text(records), to: URL(fileURLWithPath: s)) }
        try emit(report, out: output.path, json: json.json)
    }
}

struct BenchPagedCommand: ParsableCommand {
    static let configuration = command("paged", "One decode step at 32k context: each policy vs dense exact decode.")
    @OptionGroup var options: BenchOptions
    @Option(help: "Context length in tokens.") var context = 32768
    @Option(help: "Head dimension d (= d_v).") var d = 128
    @Option(help: "KV heads.") var kvHeads = 8
    @Option(parsing: .upToNextOption, help: "Query heads per KV head, one timing table each.") var groups = [1, 4]
    @Option(help: "Page size in tokens.") var pageSize = 32
    @Option(help: "KV budget in tokens.") var budget = 2048
    @OptionGroup var threads: ThreadsOption
    @Flag(inversion: .prefixedNo, help: "Also run the accuracy table (shifting importance).") var accuracy = true
    @Option(help: "Accuracy trace: prompt tokens.") var accuracyContext = 8192
    @Option(help: "Accuracy trace: decode steps.") var accuracySteps = 64
    @Option(help: "Accuracy trace: budget in tokens.") var accuracyBudget = 1024
    @Option(help: "Seed of the inputs and of the trace.") var seed: UInt64 = 42
    func run() throws {
        var b = PagedBenchmarkSuite()
        (b.setup.context, b.setup.d, b.setup.kvHeads, b.setup.pageSize) = (context, d, kvHeads, pageSize)
        (b.setup.budgetTokens, b.setup.runs, b.setup.seed) = (budget, options.runs, seed)
        (b.setup.threads, b.groups, b.accuracy, b.accuracyContext) = (threads.count, groups, accuracy, accuracyContext)
        (b.accuracySteps, b.accuracyBudget) = (accuracySteps, accuracyBudget)
        try options.emit { try b.run(note: printNote) }
    }
}
