import AttnCore
import AttnKernels
import Foundation

/// `attnbound bench paged`: one decode step at long context, each policy vs
/// dense exact decode with `FastAttention`, measured in the same run.
public enum PagedBenchmark {
    public struct Setup: Sendable {
        public var context = 32768
        public var d = 128
        public var kvHeads = 8
        public var groupSize = 1
        public var pageSize = 32
        public var budgetTokens = 2048
        public var runs = 5
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        public var seed: UInt64 = 42
        public var policies: [PolicyKind] = PolicyKind.allCases
        public init() {}
    }

    public struct PolicyTiming: Sendable {
        public let policy: String
        /// Median seconds of one decode step (append, select, attend).
        public let stepSeconds: Double
        /// Median share of the step spent scoring digests.
        public let scoringShare: Double
        /// Median pages attended per query head.
        public let pagesAttended: Int
        /// Distinct pages read per KV head (the union over its group), median.
        public let pagesRead: Int
        /// Pages recalled per step (median).
        public let pagesRecalled: Int
        /// Seconds to certify one step (not part of the step time).
        public let boundSeconds: Double
        /// The certified bound of that step (max over heads).
        public let bound: Double
    }

    public struct Result: Sendable {
        public let setup: Setup
        /// Median seconds of `FastAttention.compute` on the whole context (inputs trusted: a decode
        /// engine validates its KV cache on append, not at every step), GQA in place.
        public let denseSeconds: Double
        /// K and V bytes over `denseSeconds` (GB/s), and the copy bandwidth measured interleaved with it
        /// (`CopyBandwidth`, read + written).
        public let denseGBs: Double, copyGBs: Double
        /// Median seconds of the NaN/Inf scan of K and V that `FastAttention.compute` runs on untrusted inputs.
        public let inputCheckSeconds: Double
        /// Median seconds of the paged kernel attending every page (the same tile machinery, no input checks).
        public let densePagedSeconds: Double
        public let policies: [PolicyTiming]
    }

    /// Runs the benchmark; `progress` receives one line per finished figure.
    public static func run(_ setup: Setup, progress: (String) -> Void = { _ in }) throws -> Result {
        let L = try KVLayout(
            kvHeads: setup.kvHeads, groupSize: setup.groupSize, d: setup.d, dv: setup.d, pageSize: setup.pageSize)
        // Sparse steps are cheap and this machine is shared: take more of them than dense runs.
        let stepRuns = max(15, 3 * setup.runs)
        let steps = stepRuns + 1  // one warm-up step
        guard setup.context > steps + setup.pageSize else {
            throw AttnError.usage(.context, "\(setup.context) tokens is too small for \(steps) steps and one page")
        }
        var rng = Xoshiro256StarStar(seed: setup.seed)
        let K: Tensor<Float> = InputDistribution.uniform.sample(
            heads: L.kvHeads, rows: setup.context, cols: L.d, bound: 1, using: &rng)
        let V: Tensor<Float> = InputDistribution.uniform.sample(
            heads: L.kvHeads, rows: setup.context, cols: L.dv, bound: 1, using: &rng)
        // Queries drift slowly from step to step, as in decoding.
        let base: Tensor<Float> = InputDistribution.uniform.sample(rows: L.queryHeads, cols: L.d, bound: 2, using: &rng)
        let queries: [[Float]] = (0...steps + 1).map { _ in base.storage.map { $0 + Float(rng.uniform(-0.2, 0.2)) } }
        let scale = Scale.standard

        // Dense exact decode, GQA as a user calls it (K and V one head per KV head, read once per group),
        // interleaved with the copy bandwidth so that load on a shared machine hits both alike.
        let copy = CopyBandwidth()
        _ = copy.rate(threads: setup.threads)
        var denseRuns: [Double] = [], copyRuns: [Double] = []
        for t in 0...setup.runs {
            let q = Tensor(heads: L.queryHeads, rows: 1, cols: L.d, storage: queries[1 + t % setup.runs])
            let secs = try Timing.seconds {
                _ = try FastAttention.compute(
                    q: q, k: K, v: V, scale: scale, threads: setup.threads, checkInputs: false)
            }
            let gbs = copy.rate(threads: setup.threads)
            if t > 0 { denseRuns.append(secs); copyRuns.append(gbs) }  // run 0 warms up
        }
        let dense = Timing.median(of: denseRuns), copyGBs = Timing.median(of: copyRuns)
        let denseGBs = Double(K.count + V.count) * 4 / dense / 1e9
        progress("dense FastAttention: \(dense) s, \(denseGBs) GB/s (copy \(copyGBs) GB/s)")
        let check = Timing.median(runs: 1, warmup: 0) { precondition(K.isFinite && V.isFinite) }
        progress("input NaN/Inf scan (not part of the dense step): \(check) s")
        var densePaged = 0.0
        do {
            let all = PagedKVStore(layout: L, capacity: nil)
            all.reserve(tokens: setup.context)
            var k = [Float](repeating: 0, count: L.kvHeads * L.d), v = [Float](repeating: 0, count: L.kvHeads * L.dv)
            for i in 0..<setup.context {
                PagedDecoder.gatherRow(K, i, into: &k)
                PagedDecoder.gatherRow(V, i, into: &v)
                all.append(keys: k, values: v)
            }
            let sel = PageSelection(perKVHead: Array(repeating: Array(0..<all.pageCount), count: L.kvHeads), layout: L)
            let s = Float(scale.value(d: L.d))
            var i = 0
            densePaged = Timing.median(runs: stepRuns) {
                _ = PagedAttention.attend(
                    store: all, queries: queries[1 + i % stepRuns], selection: sel, scale: s, threads: setup.threads)
                i += 1
            }
        }
        progress("dense over every page with the paged kernel: \(densePaged) s")

        var timings: [PolicyTiming] = []
        var config = PolicyConfig(budgetTokens: setup.budgetTokens)
        config.windowPages = 2
        // With GQA, also Quest with one page set per query head (its paper's rule), beside the default of one
        // set per group: the table's read/kv column shows what it costs (the union of the heads' sets).
        var variants = setup.policies.map { ($0, config, "") }
        if L.groupSize > 1, setup.policies.contains(.quest) {
            var perHead = config
            perHead.reduction = .perHead
            variants.append((.quest, perHead, " (per head)"))
        }
        for (kind, config, label) in variants {
            let policy = try kind.make(config: config, layout: L)
            let decoder = PagedDecoder(layout: L, policy: policy, scale: scale, threads: setup.threads)
            let prompt = setup.context - steps - 1
            decoder.prefill(keys: K, values: V, count: prompt, lastQueries: queries[0])
            var secs: [Double] = [], shares: [Double] = [], pages: [Double] = [], recalled: [Double] = [],
                read: [Double] = []
            for i in 0..<steps {
                let r = decoder.step(keys: K, values: V, row: prompt + i, queries: queries[1 + i], certify: false)
                if i == 0 { continue }
                secs.append(r.stepSeconds)
                shares.append(r.scoringSeconds / r.stepSeconds)
                pages.append(Double(r.selection.pages.map(\.count).reduce(0, +)) / Double(L.queryHeads))
                recalled.append(Double(r.traffic.pagesRecalled))
                read.append(
                    Double(
                        (0..<L.kvHeads).reduce(0) { n, kv in
                            n + Set(r.selection.pages[kv * L.groupSize..<(kv + 1) * L.groupSize].joined()).count
                        }) / Double(L.kvHeads))
            }
            let last = decoder.step(keys: K, values: V, row: prompt + steps, queries: queries[steps + 1], certify: true)
            let timing = PolicyTiming(
                policy: policy.name + label, stepSeconds: Timing.median(of: secs),
                scoringShare: Timing.median(of: shares),
                pagesAttended: Int(Timing.median(of: pages).rounded()),
                pagesRead: Int(Timing.median(of: read).rounded()),
                pagesRecalled: Int(Timing.median(of: recalled).rounded()),
                boundSeconds: last.boundSeconds, bound: last.bound?.max ?? .nan)
            progress("\(timing.policy): \(timing.stepSeconds) s")
            timings.append(timing)
        }
        return Result(
            setup: setup, denseSeconds: dense, denseGBs: denseGBs, copyGBs: copyGBs, inputCheckSeconds: check,
            densePagedSeconds: densePaged,
            policies: timings)
    }

    /// The accuracy table: each policy replays the same shifting-importance trace at the same budget.
    public static func accuracy(
        trace: SyntheticTrace, policies: [PolicyKind], budgetTokens: Int, scale: Scale = .standard,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount,
        progress: (String) -> Void = { _ in }
    ) throws -> [ReplaySummary] {
        var out: [ReplaySummary] = []
        for kind in policies {
            let (records, refs) = try KVReplay.run(
                keys: trace.keys, values: trace.values, queries: trace.queries,
                prefillQueries: trace.prefillQueries, policy: kind,
                config: PolicyConfig(budgetTokens: budgetTokens),
                pageSize: trace.parameters.pageSize, scale: scale, threads: threads)
            let s = ReplaySummary(
                policy: kind.rawValue, records: records, referenceBounds: refs, lateFrom: trace.parameters.askStep)
            progress("\(kind.rawValue): attended recall \(s.meanAttendedRecall), max error \(s.maxError)")
            out.append(s)
        }
        return out
    }
}
