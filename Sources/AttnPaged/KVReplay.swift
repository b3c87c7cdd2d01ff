import AttnCore
import Foundation

/// One CSV row of `kv-replay`: one decode step, one query head.
public struct ReplayRecord: Sendable {
    public var step: Int
    public var head: Int
    public var kvHead: Int
    public var contextTokens: Int
    public var pagesAttended: Int
    public var tokensAttended: Int
    /// The attended pages against the true top-|attended| (`StepEvaluation.attendedRecall`).
    public var attendedRecall: Double
    /// ArkVale's recall@1 and recall@k of the policy's digest (`DigestRecall`), k = `KVReplay.recallK`.
    public var recallAt1: Double
    public var recallAtK: Double
    /// The same for every digest of `DigestRecall.digests` (summary only, not in the CSV).
    public var digestRecallAt1: [Double]
    public var digestRecallAtK: [Double]
    /// The pages query head `head` attended, ascending (`--selection-out`).
    public var pages: [Int]
    public var error: Double
    public var bound: Double
    public var truncationBound: Double
    public var roundingBound: Double
    /// Step totals over all KV heads (repeated on each head's row).
    public var pagesRecalled: Int
    public var bytesRecalled: Int
    public var pagesEvicted: Int
    public var pagesScored: Int
    public var pagesScoringSkipped: Int
    public var stepSeconds: Double
    public var scoringSeconds: Double

    public static let csvHeader = [
        "step", "head", "kv_head", "context_tokens", "pages_attended", "tokens_attended",
        "attended_recall", "recall_at_1", "recall_at_k", "error", "bound", "truncation_bound", "rounding_bound",
        "pages_recalled", "bytes_recalled", "pages_evicted", "pages_scored",
        "pages_scoring_skipped", "step_seconds", "scoring_seconds",
    ]

    public var csvFields: [String] {
        [
            String(step), String(head), String(kvHead), String(contextTokens), String(pagesAttended),
            String(tokensAttended),
            CSV.number(attendedRecall), CSV.number(recallAt1), CSV.number(recallAtK), CSV.number(error),
            CSV.number(bound), CSV.number(truncationBound),
            CSV.number(roundingBound), String(pagesRecalled), String(bytesRecalled), String(pagesEvicted),
            String(pagesScored), String(pagesScoringSkipped), CSV.number(stepSeconds), CSV.number(scoringSeconds),
        ]
    }
}

/// Aggregates of a replay (one policy).
public struct ReplaySummary: Sendable {
    public let policy: String
    public let steps: Int
    public let meanAttendedRecall: Double
    /// Mean recall@1 / recall@k of the policy's digest.
    public let meanRecallAt1: Double
    public let meanRecallAtK: Double
    /// Mean recall@1 and recall@k of every digest, side by side (ArkVale Fig. 7).
    public let digestRecall: [(digest: DigestKind, at1: Double, atK: Double)]
    public let maxError: Double
    public let meanError: Double
    /// Mean error over steps at or after `fromStep` (e.g. the passkey ask).
    public let meanErrorLate: Double
    public let maxBound: Double
    /// Median over rows with error > 0 of bound / error.
    public let medianBoundRatio: Double
    /// Rows where error > bound + the yardstick's own bound (must be 0).
    public let violations: Int
    public let pagesRecalled: Int
    public let bytesRecalled: Int
    public let scoringSaved: Double
    public let medianStepSeconds: Double

    public init(policy: String, records: [ReplayRecord], referenceBounds: [Double], lateFrom: Int) {
        self.policy = policy
        steps = Set(records.map(\.step)).count
        let n = Double(max(1, records.count))
        meanAttendedRecall = records.reduce(0) { $0 + $1.attendedRecall } / n
        meanRecallAt1 = records.reduce(0) { $0 + $1.recallAt1 } / n
        meanRecallAtK = records.reduce(0) { $0 + $1.recallAtK } / n
        digestRecall = DigestRecall.digests.indices.compactMap { i in
            let rows = records.filter { $0.digestRecallAt1.count == DigestRecall.digests.count }
            guard !rows.isEmpty else { return nil }
            let m = Double(rows.count)
            return (
                DigestRecall.digests[i], rows.reduce(0) { $0 + $1.digestRecallAt1[i] } / m,
                rows.reduce(0) { $0 + $1.digestRecallAtK[i] } / m
            )
        }
        maxError = records.map(\.error).max() ?? 0
        meanError = records.reduce(0) { $0 + $1.error } / n
        let late = records.filter { $0.step >= lateFrom }
        meanErrorLate = late.isEmpty ? .nan : late.reduce(0) { $0 + $1.error } / Double(late.count)
        maxBound = records.map(\.bound).max() ?? 0
        let ratios = records.filter { $0.error > 0 }.map { $0.bound / $0.error }
        medianBoundRatio = ratios.isEmpty ? .nan : Timing.median(of: ratios)
        violations = zip(records, referenceBounds).filter { $0.error > $0.bound + $1 }.count
        var byStep: [Int: ReplayRecord] = [:]
        for r in records where byStep[r.step] == nil { byStep[r.step] = r }
        pagesRecalled = byStep.values.reduce(0) { $0 + $1.pagesRecalled }
        bytesRecalled = byStep.values.reduce(0) { $0 + $1.bytesRecalled }
        let scored = byStep.values.reduce(0) { $0 + $1.pagesScored },
            skipped = byStep.values.reduce(0) { $0 + $1.pagesScoringSkipped }
        scoringSaved = scored + skipped == 0 ? 0 : Double(skipped) / Double(scored + skipped)
        medianStepSeconds = byStep.isEmpty ? 0 : Timing.median(of: byStep.values.map(\.stepSeconds))
    }
}

/// Replays decode steps of given tensors through one policy.
///
/// Inputs (AttnKit.docc/Conventions.md "Tensors"): keys `[kvHeads, n, d]`, values `[kvHeads, n, dv]`,
/// queries `[queryHeads, T, d]` with `queryHeads` a multiple of `kvHeads` and `T ≤ n`.
/// The first `n − T` tokens are the prompt; decode step t appends token `n − T + t` and
/// attends with the queries of step t. The prompt's last query is `prefillQueries`
/// (default: step 0's queries).
public enum KVReplay {
    /// Checks shapes and values; returns the layout.
    /// - Throws: `AttnError.usage` naming the input at fault.
    public static func validate(keys: Tensor<Float>, values: Tensor<Float>, queries: Tensor<Float>, pageSize: Int)
        throws -> KVLayout
    {
        for (name, t) in [(Parameter.k, keys), (.v, values), (.q, queries)] {
            guard t.logicalRank >= 2 else {
                throw AttnError.usage(name, "need shape [n, d] or [heads, n, d], got \(t.shape)")
            }
            guard t.isFinite else { throw AttnError.usage(name, "contains NaN or Inf") }
            guard t.rows >= 1, t.cols >= 1, t.heads >= 1 else { throw AttnError.usage(name, "empty tensor \(t.shape)") }
        }
        guard keys.heads == values.heads else {
            throw AttnError.usage(.v, "shape mismatch: K has \(keys.heads) heads but V has \(values.heads)")
        }
        guard keys.rows == values.rows else {
            throw AttnError.usage(.v, "shape mismatch: V has \(values.rows) rows but K has \(keys.rows)")
        }
        guard queries.cols == keys.cols else {
            throw AttnError.usage(.q, "shape mismatch: Q has d = \(queries.cols) but K has d = \(keys.cols)")
        }
        guard queries.heads % keys.heads == 0 else {
            throw AttnError.usage(
                .q, "shape mismatch: Q has \(queries.heads) heads, not a multiple of the \(keys.heads) KV heads")
        }
        guard queries.rows <= keys.rows else {
            throw AttnError.usage(.q, "\(queries.rows) steps but K has only \(keys.rows) tokens (one token per step)")
        }
        return try KVLayout(
            kvHeads: keys.heads, groupSize: queries.heads / keys.heads, d: keys.cols, dv: values.cols,
            pageSize: pageSize)
    }

    /// Runs the replay. `progress` is called after each step with (done, total).
    /// - Throws: `AttnError.usage` for invalid inputs or policy parameters.
    public static func run(
        keys: Tensor<Float>, values: Tensor<Float>, queries: Tensor<Float>, prefillQueries: [Float]? = nil,
        policy kind: PolicyKind, config: PolicyConfig, pageSize: Int, scale: Scale,
        evaluate: Bool = true, certify: Bool = true, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> (records: [ReplayRecord], referenceBounds: [Double]) {
        let L = try validate(keys: keys, values: values, queries: queries, pageSize: pageSize)
        let policy = try kind.make(config: config, layout: L)
        let k = kind.scoredPages(config: config, pageSize: pageSize)
        let own = DigestRecall.digests.firstIndex(of: kind.digest(config: config))!
        let decoder = PagedDecoder(layout: L, policy: policy, scale: scale, threads: threads)
        let T = queries.rows, prompt = keys.rows - T
        func stepQueries(_ t: Int) -> [Float] {
            var q = [Float](repeating: 0, count: L.queryHeads * L.d)
            for h in 0..<L.queryHeads { for c in 0..<L.d { q[h * L.d + c] = queries[h, t, c] } }
            return q
        }
        if let pq = prefillQueries, pq.count != L.queryHeads * L.d {
            throw AttnError.usage("prefill queries: need \(L.queryHeads * L.d) entries, got \(pq.count)")
        }
        decoder.prefill(keys: keys, values: values, count: prompt, lastQueries: prefillQueries ?? stepQueries(0))
        var records: [ReplayRecord] = [], refBounds: [Double] = []
        for t in 0..<T {
            let q = stepQueries(t)
            let r = decoder.step(keys: keys, values: values, row: prompt + t, queries: q, certify: certify)
            let ev =
                evaluate
                ? StepEvaluation.evaluate(
                    store: decoder.store, queries: q, selection: r.selection,
                    output: r.output, scale: scale, recallK: k) : nil
            for h in 0..<L.queryHeads {
                records.append(
                    ReplayRecord(
                        step: t, head: h, kvHead: L.kvHead(ofQueryHead: h), contextTokens: decoder.store.tokenCount,
                        pagesAttended: r.selection.pages[h].count,
                        tokensAttended: r.selection.tokens(head: h, table: decoder.store.table),
                        attendedRecall: ev?.attendedRecall[h] ?? .nan, recallAt1: ev?.recallAt1[h][own] ?? .nan,
                        recallAtK: ev?.recallAtK[h][own] ?? .nan, digestRecallAt1: ev?.recallAt1[h] ?? [],
                        digestRecallAtK: ev?.recallAtK[h] ?? [], pages: r.selection.pages[h],
                        error: ev?.error[h] ?? .nan,
                        bound: r.bound?.perHead[h] ?? .nan, truncationBound: r.bound?.truncation[h] ?? .nan,
                        roundingBound: r.bound?.rounding[h] ?? .nan, pagesRecalled: r.traffic.pagesRecalled,
                        bytesRecalled: r.traffic.bytesRecalled, pagesEvicted: r.traffic.pagesEvicted,
                        pagesScored: r.pagesScored, pagesScoringSkipped: r.pagesScoringSkipped,
                        stepSeconds: r.stepSeconds, scoringSeconds: r.scoringSeconds))
                refBounds.append(ev?.referenceBound[h] ?? 0)
            }
            progress?(t + 1, T)
        }
        return (records, refBounds)
    }
}

/// `kv-replay --selection-out`: the pages each query head attended at each decode step.
///
/// Format (also of `expected_selection.csv` in `attnbound vectors --paged`): header `step,head,selected_pages`,
/// then one row per step and query head, steps ascending, heads ascending within a step; `selected_pages`
/// lists logical page indices (page p holds tokens p·P ..< (p+1)·P, counted from 0 at the first token),
/// ascending, separated by single spaces.
public enum SelectionCSV {
    public static let header = ["step", "head", "selected_pages"]

    public static func text(_ rows: [(step: Int, head: Int, pages: [Int])]) -> String {
        rows.reduce(CSV.row(header)) {
            $0 + CSV.row([String($1.step), String($1.head), $1.pages.map(String.init).joined(separator: " ")])
        }
    }

    public static func text(_ records: [ReplayRecord]) -> String { text(records.map { ($0.step, $0.head, $0.pages) }) }
}
