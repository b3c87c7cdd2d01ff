import AttnCore
import Foundation

/// Page-selection conformance cases (`attnbound vectors --paged`): inputs, digests and the expected
/// selected pages under the Quest rule and the ArkVale rule, so that another implementation can test
/// its page selection on its own, as Quest's own tests do (they feed the reference's top-k into the kernel).
///
/// **Exactness.** Keys and queries are small integers, the page size is 4 and groups have 1 or 2 heads,
/// so every digest (min, max, (max+min)/2 ± mean absolute deviation) and every score and group mean is a
/// short dyadic rational, exact in binary32 and in any summation order. Ties are then true ties, and the
/// expected selection is a fact about the inputs, not about one implementation's rounding.
///
/// **The rules** (`expectedSelection` states them as code, independently of the policies; the tests
/// check that `QuestPolicy` and `ArkValePolicy` through `KVReplay` reproduce every case exactly):
/// - *Quest* (`quest`): with n pages and a budget of B pages, if n ≤ B every page is attended (nothing
///   pruned); otherwise the last page (partial or not) plus the B − 1 best of pages 0 … n − 2 by the
///   aabb score Σ_c max(q_c·max_c, q_c·min_c), per query head (or reduced over the group by mean/max).
/// - *ArkVale* (`arkvale-topk`): if n ≤ B every page; otherwise the sink pages 0 … S − 1, the window
///   pages max(S, n − W) … n − 1, and the top-k of the pages in between by the cuboid-mean score averaged
///   over the query heads of the KV head's group (one page set per group).
/// - *Ties*: equal scores go to the lower page index.
public enum PagedConformance {
    public struct Case: Sendable {
        public let name: String
        public let description: String
        public let policy: PolicyKind
        public let config: PolicyConfig
        public let pageSize: Int
        /// Keys `[kvHeads, n, d]`, values `[kvHeads, n, dv]`, decode queries `[queryHeads, T, d]`;
        /// the first n − T tokens are the prompt (as `KVReplay`).
        public let keys: Tensor<Float>
        public let values: Tensor<Float>
        public let queries: Tensor<Float>

    }

    static let P = 4, d = 4, dv = 2

    /// Integer-valued tensor, entries uniform in −r … r.
    static func integers(heads: Int, rows: Int, cols: Int, range r: Int, rng: inout Xoshiro256StarStar) -> Tensor<Float>
    {
        Tensor(
            heads: heads, rows: rows, cols: cols,
            storage: (0..<heads * rows * cols).map { _ in Float(Int(rng.next() % UInt64(2 * r + 1)) - r) })
    }

    static func make(
        _ name: String, _ description: String, policy: PolicyKind, budget: Int, kvHeads: Int = 1,
        group: Int = 1, tokens n: Int, steps T: Int, sink: Int = 1, window: Int = 2, topk: Int? = nil,
        reduction: ScoreReduction? = nil, seed: UInt64,
        edit: (inout Tensor<Float>, inout Tensor<Float>) -> Void = { _, _ in }
    ) -> Case {
        var rng = Xoshiro256StarStar(seed: seed)
        var k = integers(heads: kvHeads, rows: n, cols: d, range: 4, rng: &rng)
        let v = integers(heads: kvHeads, rows: n, cols: dv, range: 2, rng: &rng)
        var q = integers(heads: kvHeads * group, rows: T, cols: d, range: 3, rng: &rng)
        edit(&k, &q)
        var c = PolicyConfig(budgetTokens: budget)
        (c.sinkPages, c.windowPages, c.topkPages, c.reduction) = (sink, window, topk, reduction)
        return Case(
            name: name, description: description, policy: policy, config: c, pageSize: P, keys: k, values: v, queries: q
        )
    }

    /// Copies page `from` of every KV head's keys onto page `to`, so that both score alike for every query.
    static func duplicatePage(_ k: inout Tensor<Float>, from: Int, to: Int) {
        for h in 0..<k.heads { for j in 0..<P { for c in 0..<d { k[h, to * P + j, c] = k[h, from * P + j, c] } } }
    }

    /// Keys alternating +4 and −4 in every column: box [−4, 4] for aabb and cuboid-mean alike (centre 0,
    /// mean deviation 4), so the page scores 4·Σ|q_c|, the most any page of entries in −4 … 4 can score.
    static func makeBest(_ k: inout Tensor<Float>, page p: Int) {
        for h in 0..<k.heads { for j in 0..<P { for c in 0..<d { k[h, p * P + j, c] = j % 2 == 0 ? 4 : -4 } } }
    }

    /// The cases, in index order.
    public static var all: [Case] {
        [
            make(
                "quest-basic", "Quest, one head: 8–9 pages, budget 3 pages (last page + top 2).",
                policy: .quest, budget: 12, tokens: 36, steps: 4, seed: 1),
            make(
                "quest-budget-covers-context",
                "Quest, budget 64 tokens ≥ context (≤ 40 tokens): every page, nothing pruned.",
                policy: .quest, budget: 64, tokens: 40, steps: 3, seed: 2),
            make(
                "quest-partial-last-page",
                "Quest: the context grows from 29 to 32 tokens, so the last page holds 1, 2, 3, 4 tokens.",
                policy: .quest, budget: 12, tokens: 32, steps: 4, seed: 3),
            make(
                "quest-gqa-per-head",
                "Quest under 2:1 GQA (2 KV heads), per-head top pages: heads of a group may differ.",
                policy: .quest, budget: 16, kvHeads: 2, group: 2, tokens: 44, steps: 3, reduction: .perHead, seed: 4),
            make(
                "quest-gqa-group-mean", "Quest under 2:1 GQA with the group-mean reduction: one page set per group.",
                policy: .quest, budget: 16, kvHeads: 2, group: 2, tokens: 44, steps: 3, reduction: .mean, seed: 4),
            make(
                "quest-ties", "Quest with pages 1, 3 and 5 identical to page 0: four-way ties, won by the lower index.",
                policy: .quest, budget: 12, tokens: 36, steps: 3, seed: 5
            ) { k, _ in
                makeBest(&k, page: 0)
                for p in [1, 3, 5] { duplicatePage(&k, from: 0, to: p) }
            },
            make(
                "arkvale-sink-window", "ArkVale, one head: sink 1 page, window 2 pages, top-2 of the pages between.",
                policy: .arkvaleTopk, budget: 20, tokens: 48, steps: 4, topk: 2, seed: 6),
            make(
                "arkvale-budget-covers-context", "ArkVale, budget 64 tokens ≥ context: every page.",
                policy: .arkvaleTopk, budget: 64, tokens: 40, steps: 3, topk: 2, seed: 7),
            make(
                "arkvale-gqa-group-mean",
                "ArkVale under 2:1 GQA: scores averaged over the group, one page set per KV head.",
                policy: .arkvaleTopk, budget: 24, kvHeads: 2, group: 2, tokens: 50, steps: 4, sink: 2, window: 1,
                topk: 3, seed: 8),
            make(
                "arkvale-ties", "ArkVale with pages 2, 4 and 6 identical and best: the lower pages win the top-2.",
                policy: .arkvaleTopk, budget: 20, tokens: 44, steps: 3, topk: 2, seed: 9
            ) { k, _ in
                makeBest(&k, page: 2)
                for p in [4, 6] { duplicatePage(&k, from: 2, to: p) }
            },
        ]
    }

    // MARK: - The rules, stated independently of the policies

    /// Box score Σ_c max(q_c·hi_c, q_c·lo_c) of page `p` of KV head `kv`, in Double (exact here).
    static func score(_ c: Case, kv: Int, page p: Int, query q: [Double], cuboidMean: Bool) -> Double {
        var total = 0.0
        for col in 0..<d {
            let x = (0..<c.pageSize).map { Double(c.keys[kv, p * c.pageSize + $0, col]) }
            var lo = x.min()!, hi = x.max()!
            if cuboidMean {
                let mid = (lo + hi) / 2, mad = x.reduce(0) { $0 + abs($1 - mid) } / Double(x.count)
                (lo, hi) = (mid - mad, mid + mad)
            }
            total += max(q[col] * hi, q[col] * lo)
        }
        return total
    }

    /// The `k` best candidates (ties: lower page), ascending.
    static func best(_ candidates: [Int], k: Int, score: (Int) -> Double) -> [Int] {
        Array(candidates.sorted { score($0) != score($1) ? score($0) > score($1) : $0 < $1 }.prefix(k)).sorted()
    }

    /// The expected rows of `kv-replay --selection-out` for the case (see the type's rules).
    public static func expectedSelection(_ c: Case) -> [(step: Int, head: Int, pages: [Int])] {
        let (G, T, n) = (c.queries.heads / c.keys.heads, c.queries.rows, c.keys.rows)
        let B = c.config.budgetPages(pageSize: c.pageSize)
        var rows: [(Int, Int, [Int])] = []
        for t in 0..<T {
            let tokens = n - T + t + 1, pages = (tokens + c.pageSize - 1) / c.pageSize
            for h in 0..<c.queries.heads {
                let kv = h / G
                let group =
                    c.policy == .quest && c.config.reduction == .perHead
                    ? [h] : Array(kv * G..<(kv + 1) * G)
                func q(_ g: Int) -> [Double] { (0..<d).map { Double(c.queries[g, t, $0]) } }
                func groupScore(_ p: Int, cuboidMean: Bool) -> Double {
                    let s = group.map { score(c, kv: kv, page: p, query: q($0), cuboidMean: cuboidMean) }
                    return c.config.reduction == .max ? s.max()! : s.reduce(0, +) / Double(s.count)
                }
                if pages <= B {
                    rows.append((t, h, Array(0..<pages)))
                } else if c.policy == .quest {
                    rows.append(
                        (t, h, best(Array(0..<pages - 1), k: B - 1) { groupScore($0, cuboidMean: false) } + [pages - 1])
                    )
                } else {
                    let (S, W) = (c.config.sinkPages, c.config.windowPages)
                    let between = Array(S..<max(S, pages - W))
                    let top = best(between, k: c.config.topkPages ?? max(1, B / 2)) { groupScore($0, cuboidMean: true) }
                    rows.append((t, h, (Array(0..<min(S, pages)) + top + Array(max(S, pages - W)..<pages)).sorted()))
                }
            }
        }
        return rows
    }

    // MARK: - Writing

    /// Writes `DIR/<case>/` (k.npy, v.npy, q.npy, the digests of every full page of the whole context,
    /// expected_selection.csv, case.json), `DIR/README.md` (the format and the rules) and `DIR/index.json` last.
    /// Each case folder is written under a temporary name and renamed into place.
    /// `extraFields` adds keys to each case.json (`run` adds `kv_replay_args`, the case's configuration
    /// in a front end's spelling: the library knows the parameters, not their flag names).
    /// - Returns: the case names.
    /// - Throws: `AttnError.usage(.output, …)` if the folder cannot be created or written.
    @discardableResult
    public static func write(to directory: URL, extraFields: (Case) -> [(String, JSONValue)] = { _ in [] }) throws
        -> [String]
    {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if !fm.fileExists(atPath: directory.path, isDirectory: &isDir) {
            do { try fm.createDirectory(at: directory, withIntermediateDirectories: false) } catch {
                throw AttnError.usage(.output, "\(directory.path): cannot create the folder (does its parent exist?)")
            }
        } else if !isDir.boolValue {
            throw AttnError.usage(.output, "\(directory.path): exists and is not a folder")
        }
        var entries: [JSONValue] = []
        for c in all {
            let tmp = directory.appendingPathComponent(".\(c.name).\(getpid()).tmp"),
                final = directory.appendingPathComponent(c.name)
            try? fm.removeItem(at: tmp)
            do {
                try fm.createDirectory(at: tmp, withIntermediateDirectories: false)
                var files: [(String, Tensor<Float>)] = [("k", c.keys), ("v", c.values), ("q", c.queries)]
                files += digestTensors(c)
                for (name, t) in files {
                    try AtomicFile.write(Npy.encode(t, dtype: .float32), to: tmp.appendingPathComponent("\(name).npy"))
                }
                try AtomicFile.write(
                    SelectionCSV.text(expectedSelection(c)), to: tmp.appendingPathComponent("expected_selection.csv"))
                let json = JSONValue.object(
                    [
                        ("name", .string(c.name)), ("description", .string(c.description)),
                        ("rule", .string(c.policy == .quest ? "quest" : "arkvale")),
                        ("policy", .string(c.policy.rawValue)),
                        ("page_size", .int(c.pageSize)), ("budget_tokens", .int(c.config.budgetTokens)),
                        ("budget_pages", .int(c.config.budgetPages(pageSize: c.pageSize))),
                        ("sink_pages", .int(c.config.sinkPages)), ("window_pages", .int(c.config.windowPages)),
                        ("topk_pages", c.config.topkPages.map { .int($0) } ?? .null),
                        ("digest", .string(c.policy.digest(config: c.config).rawValue)),
                        (
                            "reduction",
                            .string((c.config.reduction ?? .mean).rawValue)
                        ),
                        ("prompt_tokens", .int(c.keys.rows - c.queries.rows)), ("steps", .int(c.queries.rows)),
                        ("kv_heads", .int(c.keys.heads)), ("query_heads", .int(c.queries.heads)),
                        ("tie_break", "equal scores: the lower page index wins"),
                    ] + extraFields(c))
                try AtomicFile.write(json.serialized() + "\n", to: tmp.appendingPathComponent("case.json"))
                try? fm.removeItem(at: final)
                guard rename(tmp.path, final.path) == 0 else {
                    throw AttnError.usage(.output, "\(final.path): cannot rename into place")
                }
            } catch {
                try? fm.removeItem(at: tmp)
                if error is AttnError { throw error }
                throw AttnError.usage(.output, "\(final.path): \(error.localizedDescription)")
            }
            entries.append(
                .object([("name", .string(c.name)), ("rule", .string(c.policy == .quest ? "quest" : "arkvale"))]))
        }
        try AtomicFile.write(readme, to: directory.appendingPathComponent("README.md"))
        try AtomicFile.write(
            JSONValue.object([("cases", .array(entries))]).serialized() + "\n",
            to: directory.appendingPathComponent("index.json"))
        return all.map(\.name)
    }

    /// The digests of every full page of the whole context, `[kvHeads, fullPages, d]` each: a page's digest
    /// never changes once it is full, so these cover every step (page p has one from the step it fills).
    static func digestTensors(_ c: Case) -> [(String, Tensor<Float>)] {
        let full = c.keys.rows / c.pageSize
        var out: [(String, [Float])] = [
            ("digest_key_min", []), ("digest_key_max", []), ("digest_cuboid_low", []), ("digest_cuboid_high", []),
        ]
        for kv in 0..<c.keys.heads {
            for p in 0..<full {
                for col in 0..<d {
                    let x = (0..<c.pageSize).map { c.keys[kv, p * c.pageSize + $0, col] }
                    let (lo, hi) = (x.min()!, x.max()!), mid = lo / 2 + hi / 2
                    let mad = x.reduce(Float(0)) { $0 + abs($1 - mid) } / Float(x.count)
                    for (i, y) in [lo, hi, mid - mad, mid + mad].enumerated() { out[i].1.append(y) }
                }
            }
        }
        return out.map { ($0.0, Tensor(heads: c.keys.heads, rows: full, cols: d, storage: $0.1)) }
    }

    static let readme = """
        # attnbound page-selection conformance vectors

        Written by `attnbound vectors --paged --out DIR`. One folder per case, listed in `index.json`:

        | file | content |
        |---|---|
        | `k.npy`, `v.npy` | float32 keys `[kv_heads, n, d]` and values `[kv_heads, n, d_v]` |
        | `q.npy` | float32 decode queries `[query_heads, T, d]`; query head h reads KV head h / (query_heads / kv_heads) |
        | `digest_key_min.npy`, `digest_key_max.npy` | Quest's per-page elementwise key min / max, `[kv_heads, full_pages, d]` |
        | `digest_cuboid_low.npy`, `digest_cuboid_high.npy` | ArkVale's cuboid-mean box c ∓ r, c = (max+min)/2, r = mean over the page of \\|k − c\\| |
        | `expected_selection.csv` | `step,head,selected_pages`: the pages each query head attends at each decode step |
        | `case.json` | rule, page size, budget (tokens and pages), sink/window/top-k pages, digest, reduction, the `kv-replay` flags |

        **Steps.** The first n − T tokens are the prompt; decode step t appends token n − T + t, so the context
        holds n − T + t + 1 tokens, and selects with the queries `q[:, t]`. Pages are counted from 0 at the first
        token; page p holds tokens 4p … 4p + 3; the last page may be partial. Digests exist for full pages only;
        a page's digest never changes once it is full.

        **Quest rule.** With n pages and a budget of B = budget_tokens / page_size pages: if n ≤ B, every page
        (nothing is pruned). Otherwise the last page plus the B − 1 best of pages 0 … n − 2 by
        Σ_c max(q_c·max_c, q_c·min_c), per query head (`reduction` per-head) or on the group's mean.
        Unlike Quest's code, whose `max(3, token_budget // chunk_size)` (Quest issue 22) prunes even when the
        budget exceeds the context, a budget ≥ the context prunes nothing here.

        **ArkVale rule** (its paper: attend sinks, window and top-k). If n ≤ B, every page. Otherwise the sink
        pages 0 … S − 1, the window pages max(S, n − W) … n − 1 and the top-k of the pages in between by the
        cuboid-mean score Σ_c max(q_c·high_c, q_c·low_c), averaged over the query heads of the group.

        **Ties.** Equal scores: the lower page index wins. Inputs are small integers, so every score is exact in
        binary32 and in any order of summation; ties in these cases are exact.

        **Replay.** `attnbound kv-replay --k k.npy --v v.npy --q q.npy <kv_replay_args> --selection-out FILE`
        writes FILE identical, byte for byte, to `expected_selection.csv`.
        """
}

extension PagedConformance.Case {
    /// The `kv-replay` arguments that replay this case besides its inputs and outputs, by parameter
    /// (a front end spells each parameter its own way).
    public var replayArguments: [(Parameter, String)] {
        let p = config
        return [(.policy, policy.rawValue), (.budget, String(p.budgetTokens)), (.pageSize, String(pageSize))]
            + [(.sinkPages, String(p.sinkPages)), (.windowPages, String(p.windowPages))]
            + (p.topkPages.map { [(.topkPages, String($0))] } ?? [])
            + (p.reduction.map { [(.reduction, $0.rawValue)] } ?? [])
    }
}

extension PagedConformance {
    /// Writes the page-selection cases into the folder `path` (`write`) and reports their names. With
    /// `spelling` (a front end's name of each parameter), each case.json gains `kv_replay_args`: the
    /// `replayArguments` as that front end's argument list.
    public static func run(to path: String, spelling: ((Parameter) -> String)? = nil) throws -> RunReport {
        let names = try write(to: URL(fileURLWithPath: path)) { c in
            guard let spelling else { return [] }
            let args = c.replayArguments.flatMap { [JSONValue.string(spelling($0.0)), .string($0.1)] }
            return [("kv_replay_args", .array(args))]
        }
        let json = JSONValue.object([("out", .string(path)), ("cases", .array(names.map { .string($0) }))])
        let text = ["wrote \(names.count) page-selection cases to \(path):"] + names.map { "  \($0)" }
        return RunReport(command: "vectors", text: text, json: json)
    }
}
