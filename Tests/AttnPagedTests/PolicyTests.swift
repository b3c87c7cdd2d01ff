import AttnCore
import AttnKernels
import AttnPaged
import PropertyBased
import Testing

@Suite("Policies")
struct PolicyTests {
    /// With a budget covering the context every policy attends every page and its output
    /// agrees with exact attention within the fast kernel's a-priori bound for page-sized tiles.
    @Test func fullBudgetEqualsExactAttention() async {
        await propertyCheck(
            count: 12, input: Gen.int(in: 0...Int(UInt32.max)), Gen.int(in: 0...5).map { PolicyKind.allCases[$0] },
            Gen.int(in: 1...3)
        ) { seed, kind, group in
            let P = 4
            let prob = SmallProblem(
                seed: UInt64(seed), kvHeads: 2, group: group, d: 8, dv: 5, prompt: 37, steps: 1, pageSize: P, bound: 2)
            let L = try! KVLayout(kvHeads: 2, groupSize: group, d: 8, dv: 5, pageSize: P)
            let decoder = PagedDecoder(
                layout: L, policy: try! kind.make(config: PolicyConfig(budgetTokens: 64), layout: L), scale: .standard)
            let q0 = (0..<L.queryHeads).flatMap { h in (0..<8).map { prob.queries[h, 0, $0] } }
            decoder.prefill(keys: prob.keys, values: prob.values, count: 37, lastQueries: q0)
            let r = decoder.step(keys: prob.keys, values: prob.values, row: 37, queries: q0, certify: false)
            for h in 0..<L.queryHeads { #expect(r.selection.pages[h] == Array(0..<decoder.store.pageCount)) }
            let Q = Tensor(heads: 2, rows: group, cols: 8, storage: q0)
            let exact = try! ReferenceAttention.compute(q: Q, k: prob.keys, v: prob.values, scale: .standard)
            // The paged kernel absorbs at most one tile per page; the bound grows with the tile count.
            let feb = ForwardErrorBound.fast(
                q: Q, k: prob.keys, v: prob.values, scale: .standard,
                tiles: TileSizes(queryTile: group, keyTile: P), as: Float.self)
            for h in 0..<L.queryHeads {
                for c in 0..<5 { #expect(abs(Double(r.output[h * 5 + c]) - exact.storage[h * 5 + c]) <= feb[h]) }
            }
        }
    }

    /// Residency stays within the budget, every attended page is resident, and selections respect
    /// each policy's size (quest: budget pages; arkvale-topk: sink + window + top-k).
    @Test func budgetsAreRespected() async {
        await propertyCheck(
            count: 20, input: Gen.int(in: 0...Int(UInt32.max)), Gen.int(in: 0...5).map { PolicyKind.allCases[$0] },
            Gen.int(in: 4...8)
        ) { seed, kind, pages in
            let P = 4
            let prob = SmallProblem(
                seed: UInt64(seed), kvHeads: 2, group: 2, d: 6, dv: 2, prompt: 80, steps: 12, pageSize: P, bound: 2)
            let L = try! KVLayout(kvHeads: 2, groupSize: 2, d: 6, dv: 2, pageSize: P)
            var config = PolicyConfig(budgetTokens: pages * P)
            config.windowPages = 1
            let policy = try! kind.make(config: config, layout: L)
            let decoder = PagedDecoder(layout: L, policy: policy, scale: .standard, threads: 1)
            let q = { (t: Int) in (0..<L.queryHeads).flatMap { h in (0..<6).map { prob.queries[h, t, $0] } } }
            decoder.prefill(keys: prob.keys, values: prob.values, count: 80, lastQueries: q(0))
            for t in 0..<12 {
                let r = decoder.step(keys: prob.keys, values: prob.values, row: 80 + t, queries: q(t), certify: false)
                #expect(decoder.store.table.consistencyViolation() == nil)
                for h in 0..<L.queryHeads {
                    let kv = L.kvHead(ofQueryHead: h)
                    #expect(r.selection.pages[h].allSatisfy { decoder.store.isResident(page: $0, head: kv) })
                    #expect(r.selection.pages[h].count <= pages)
                    if kind == .arkvaleTopk { #expect(r.selection.pages[h].count <= 1 + 1 + pages / 2) }
                }
                if let cap = policy.capacity {
                    for h in 0..<L.kvHeads { #expect(decoder.store.table.residentCount(head: h) <= cap) }
                }
            }
        }
    }

    /// The passkey: page 5 is disliked at prefill (so ArkVale, H2O and streaming all evict it),
    /// then a query wants it. ArkVale recalls it and answers; streaming and H2O never recall,
    /// so it stays out of their resident set and they miss it.
    @Test func recallBringsBackAPageThatRegainedImportance() throws {
        let (P, d, pages) = (4, 8, 16)
        let L = try KVLayout(kvHeads: 1, d: d, dv: 1, pageSize: P)
        var rng = Xoshiro256StarStar(seed: 7)
        var keys: [Float] = [], values: [Float] = []
        for j in 0..<(pages * P + 1) {
            let isKey = j / P == 5
            keys += (0..<d).map { c in (isKey && c == 0 ? 4 : 0) + Float(rng.uniform(-0.1, 0.1)) }
            values.append(isKey ? 1 : 0)
        }
        let K = Tensor(rows: pages * P + 1, cols: d, storage: keys),
            V = Tensor(rows: pages * P + 1, cols: 1, storage: values)
        let dislike = (0..<d).map { Float($0 == 0 ? -2 : 0.1) }, want = (0..<d).map { Float($0 == 0 ? 3 : 0) }
        var config = PolicyConfig(budgetTokens: 4 * P)
        config.windowPages = 1
        config.topkPages = 2
        var found: [PolicyKind: Bool] = [:]
        for kind in [PolicyKind.arkvale, .arkvaleTopk, .quest, .streaming, .h2o] {
            let decoder = PagedDecoder(layout: L, policy: try kind.make(config: config, layout: L), scale: .standard)
            decoder.prefill(keys: K, values: V, count: pages * P, lastQueries: dislike)
            if kind != .quest {
                #expect(!decoder.store.isResident(page: 5, head: 0), "\(kind.rawValue) kept the passkey at prefill")
            }
            let r = decoder.step(keys: K, values: V, row: pages * P, queries: want, certify: true)
            found[kind] = r.selection.pages[0].contains(5)
            if kind == .streaming || kind == .h2o {
                #expect(decoder.store.counters.pagesRecalled == 0)
                #expect(r.output[0] < 0.5)  // the exact answer is ≈ 1
            } else {
                #expect(r.output[0] > 0.9)
            }
            #expect(r.bound!.max >= abs(Double(r.output[0]) - 1) - 0.1)
        }
        #expect(found == [.arkvale: true, .arkvaleTopk: true, .quest: true, .streaming: false, .h2o: false])
    }

    /// steady reuses the selection of an unchanged query and saves the scoring; its pages are quest's.
    @Test func steadyReusesAndMatchesQuest() throws {
        let P = 4
        let prob = SmallProblem(seed: 3, kvHeads: 1, group: 2, d: 8, dv: 2, prompt: 64, steps: 3, pageSize: P, bound: 2)
        let L = try KVLayout(kvHeads: 1, groupSize: 2, d: 8, dv: 2, pageSize: P)
        let q = (0..<2).flatMap { h in (0..<8).map { prob.queries[h, 0, $0] } }
        var selections: [PolicyKind: [PageSelection]] = [:], skipped = 0
        for kind in [PolicyKind.quest, .steady] {
            let decoder = PagedDecoder(
                layout: L, policy: try kind.make(config: PolicyConfig(budgetTokens: 4 * P), layout: L), scale: .standard
            )
            decoder.prefill(keys: prob.keys, values: prob.values, count: 64, lastQueries: q)
            for t in 0..<3 {  // tokens 64, 65, 66 stay in one page
                let r = decoder.step(keys: prob.keys, values: prob.values, row: 64 + t, queries: q, certify: false)
                selections[kind, default: []].append(r.selection)
                if kind == .steady { skipped += r.pagesScoringSkipped }
            }
        }
        #expect(selections[.quest] == selections[.steady])
        #expect(skipped == 2 * 16 * 2)  // steps 2 and 3 reuse: 16 candidate pages × 2 heads each
    }

    /// The per-page attention masses H2O accumulates equal the page sums of ReferenceAttention's weights.
    @Test func pageMassesMatchReferenceWeights() async {
        await propertyCheck(count: 15, input: Gen.int(in: 0...Int(UInt32.max)), Gen.int(in: 1...3)) { seed, group in
            let P = 4
            let prob = SmallProblem(
                seed: UInt64(seed), kvHeads: 2, group: group, d: 8, dv: 2, prompt: 70, steps: 1, pageSize: P, bound: 3)
            let L = try! KVLayout(kvHeads: 2, groupSize: group, d: 8, dv: 2, pageSize: P)
            let store = PagedKVStore(layout: L, capacity: nil)
            for j in 0..<70 {
                store.append(
                    keys: (0..<2).flatMap { h in (0..<8).map { prob.keys[h, j, $0] } },
                    values: (0..<2).flatMap { h in (0..<2).map { prob.values[h, j, $0] } })
            }
            let q = (0..<L.queryHeads).flatMap { h in (0..<8).map { prob.queries[h, 0, $0] } }
            // Every other page, so runs of one page and a partial last page both occur.
            let pages =
                Array(stride(from: 0, to: store.pageCount, by: 2))
                + (store.pageCount % 2 == 0 ? [store.pageCount - 1] : [])
            let sel = PageSelection(perKVHead: [pages, pages], layout: L)
            let mass = PagedAttention.attend(
                store: store, queries: q, selection: sel, scale: Float(Scale.standard.value(d: 8)),
                pageMass: true
            ).mass!
            let tokens = pages.flatMap { store.table.positions(ofPage: $0) }
            for kv in 0..<2 {
                let K = Tensor(
                    rows: tokens.count, cols: 8, storage: tokens.flatMap { j in (0..<8).map { prob.keys[kv, j, $0] } })
                let Q = Tensor(rows: group, cols: 8, storage: Array(q[kv * group * 8..<(kv + 1) * group * 8]))
                let w = try! ReferenceAttention.weights(q: Q, k: K, scale: .standard)
                for p in 0..<store.pageCount {
                    var expected = 0.0
                    for (i, j) in tokens.enumerated() where j / P == p { for g in 0..<group { expected += w[0, g, i] } }
                    #expect(abs(mass[kv][p] - expected) <= 1e-5 * Double(group))
                }
            }
        }
    }

    @Test func invalidBudgetsAreUsageErrors() throws {
        let L = try KVLayout(kvHeads: 1, d: 4, dv: 4, pageSize: 32)
        #expect(throws: AttnError.self) { try PolicyKind.quest.make(config: PolicyConfig(budgetTokens: 16), layout: L) }
        #expect(throws: AttnError.self) {
            try PolicyKind.arkvale.make(config: PolicyConfig(budgetTokens: 64), layout: L)
        }
        var c = PolicyConfig(budgetTokens: 128)
        c.topkPages = 5
        #expect(throws: AttnError.self) { try PolicyKind.arkvale.make(config: c, layout: L) }
    }
}

@Suite("Top-k page selection")
struct TopIndicesTests {
    /// The selection's rule, by sorting every score: higher first, ties to the earlier page.
    static func bySort(_ scores: [Float], k: Int) -> [Int] {
        Array(scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(k)).sorted()
    }

    @Test("the selection equals sorting all scores (ties: the earlier page)")
    func selectionEqualsSort() async {
        // Scores from a small set so that ties are common.
        await propertyCheck(count: 300, input: Gen.int(in: -4...4).array(of: 0...60), Gen.int(in: 0...70)) { raw, k in
            let scores = raw.map { Float($0) * 0.5 }
            #expect(DigestScoring.topIndices(scores, k: k) == Self.bySort(scores, k: k), "\(scores) k=\(k)")
        }
    }

    @Test("over the whole Float range: signed zeros, subnormals, infinities, keys a radix round cannot split")
    func wholeRange() async {
        // Any bit pattern but NaN (NaN is read as −0: zeros of both signs, which are equal scores), and half of the
        // scores drawn near one value, so that the rounds narrow a wide range down to neighbouring floats.
        let score = Gen.int(in: 0...Int(UInt32.max)).map { bits -> Float in
            let x = Float(bitPattern: UInt32(bits))
            return x.isNaN ? -0.0 : x
        }
        let near = Gen.int(in: -3...3).map { Float(bitPattern: Float(120).bitPattern &+ UInt32(bitPattern: Int32($0))) }
        let k = Gen.int(in: 0...410)
        await propertyCheck(count: 300, input: score.array(of: 0...200), near.array(of: 0...200), k) { wide, close, k in
            let scores = zip(wide, close).flatMap { [$0, $1] } + wide.dropFirst(close.count)
            #expect(DigestScoring.topIndices(scores, k: k) == Self.bySort(scores, k: k), "\(scores) k=\(k)")
        }
    }

    @Test("explicit cases: zeros of both signs tie, NaN ranks below −∞, one bin of 5000 equal scores")
    func explicitCases() {
        #expect(DigestScoring.topIndices([0, -0.0, 0], k: 1) == [0])
        #expect(DigestScoring.topIndices([-0.0, 0, -0.0], k: 2) == [0, 1])
        #expect(DigestScoring.topIndices([.nan, 1, .nan, -.infinity], k: 2) == [1, 3])
        #expect(DigestScoring.topIndices([.nan, .nan, .nan], k: 2) == [0, 1])
        #expect(DigestScoring.topIndices([Float.leastNonzeroMagnitude, 0, -Float.leastNonzeroMagnitude], k: 1) == [0])
        let flat = [Float](repeating: 3, count: 5000)
        #expect(DigestScoring.topIndices(flat, k: 63) == Array(0..<63))
        var bump = flat
        bump[4000] = Float(3).nextUp
        bump[17] = Float(3).nextDown
        #expect(DigestScoring.topIndices(bump, k: 3) == [0, 1, 4000])
        #expect(DigestScoring.topIndices(bump, k: 4999) == Array(0..<17) + Array(18..<5000))
    }
}
