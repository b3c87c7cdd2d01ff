import AttnCore
import AttnKernels
import AttnPaged
import PropertyBased
import Testing

@Suite("Certified sparse-step bound")
struct SparseBoundTests {
    /// For every policy, step and head, on random problems with scores from tiny to
    /// overflow-sized: measured error vs ReferenceAttention ≤ bound + the yardstick's own bound.
    @Test func boundIsNeverBelowTheTrueError() async {
        await propertyCheck(
            count: 200, input: Gen.int(in: 0...Int(UInt32.max)), Gen.int(in: 0...5), Gen.int(in: 1...2),
            Gen.int(in: 1...3), Gen.int(in: 2...16), Gen.int(in: 1...3).map { 1 << $0 }, Gen.int(in: 3...6),
            Gen.int(in: 0...3).map { [0.3, 1.0, 3.0, 30.0][$0] }
        ) { seed, policyIndex, kvHeads, group, d, P, budgetPages, B in
            let prob = SmallProblem(
                seed: UInt64(seed), kvHeads: kvHeads, group: group, d: d, dv: 3, prompt: 12 * P + 1,
                steps: 5, pageSize: P, bound: B)
            var config = PolicyConfig(budgetTokens: budgetPages * P)
            config.windowPages = 1
            config.digest = [DigestKind.aabb, .sphereMax, .cuboidMean][seed % 3]
            config.reduction = ScoreReduction.allCases[seed % 3]
            let kind = PolicyKind.allCases[policyIndex]
            let (records, refs) = try! KVReplay.run(
                keys: prob.keys, values: prob.values, queries: prob.queries, policy: kind,
                config: config, pageSize: P, scale: .standard, threads: 1)
            #expect(records.count == 5 * kvHeads * group)
            for (r, ref) in zip(records, refs) {
                #expect(r.bound.isFinite)
                #expect(
                    r.error <= r.bound + ref,
                    "policy \(kind.rawValue) step \(r.step) head \(r.head): error \(r.error) > bound \(r.bound)")
            }
        }
    }

    /// Same with the paper scale 1/d and GQA, larger d (longer dot products, more rounding).
    @Test func boundHoldsWithPaperScaleAndWideHeads() async {
        await propertyCheck(
            count: 10, input: Gen.int(in: 0...Int(UInt32.max)), Gen.int(in: 0...5).map { PolicyKind.allCases[$0] }
        ) { seed, kind in
            let prob = SmallProblem(
                seed: UInt64(seed), kvHeads: 2, group: 2, d: 64, dv: 8, prompt: 200, steps: 3, pageSize: 8, bound: 4)
            var config = PolicyConfig(budgetTokens: 48)
            config.windowPages = 1
            let (records, refs) = try! KVReplay.run(
                keys: prob.keys, values: prob.values, queries: prob.queries, policy: kind,
                config: config, pageSize: 8, scale: .paper, threads: 2)
            for (r, ref) in zip(records, refs) { #expect(r.error <= r.bound + ref) }
        }
    }

    /// With every page selected nothing is truncated: the bound is the kernel's rounding only,
    /// measured against a Double recomputation, and so it is small.
    @Test func fullSelectionBoundIsRoundingOnly() async {
        await propertyCheck(count: 20, input: Gen.int(in: 0...Int(UInt32.max))) { seed in
            let prob = SmallProblem(
                seed: UInt64(seed), kvHeads: 2, group: 2, d: 16, dv: 4, prompt: 60, steps: 2, pageSize: 4, bound: 1)
            let (records, refs) = try! KVReplay.run(
                keys: prob.keys, values: prob.values, queries: prob.queries, policy: .quest,
                config: PolicyConfig(budgetTokens: 64), pageSize: 4, scale: .standard)
            for (r, ref) in zip(records, refs) {
                #expect(r.truncationBound == 0)
                #expect(r.bound < 1e-5)
                #expect(r.error <= r.bound + ref)
            }
        }
    }

    /// A concentrated step (one page dominates) gets a bound far below the trivial value range.
    @Test func concentratedAttentionGivesAnInformativeBound() {
        let layout = try! KVLayout(kvHeads: 1, d: 4, dv: 1, pageSize: 4)
        let store = PagedKVStore(layout: layout, capacity: nil)
        for j in 0..<32 {
            let hot = j / 4 == 3
            store.append(keys: hot ? [5, 0, 0, 0] : [0, Float(j % 3) * 0.1, 0, 0], values: [hot ? 1 : Float(j % 2)])
        }
        let q: [Float] = [4, 0, 0, 0]
        let sel = PageSelection(pages: [[3, 7]])
        let out = PagedAttention.attend(store: store, queries: q, selection: sel, scale: 0.5).output
        let b = SparseBound.compute(store: store, queries: q, selection: sel, output: out, scale: 0.5)
        // Unselected scores ≤ 0, the hot page's are 10: τ ≤ 24·e⁰/(4·e¹⁰) ≈ 2.7e-4.
        #expect(b.max < 1e-3)
        #expect(b.truncation[0] > 0)
    }
    /// Issue 23: a subnormal Double scale has no relative rounding bound, so the step's bound is +∞
    /// (said, not a finite number that may fall below the true error).
    @Test func subnormalScaleGivesAnInfiniteBound() {
        let layout = try! KVLayout(kvHeads: 1, d: 4, dv: 1, pageSize: 4)
        let store = PagedKVStore(layout: layout, capacity: nil)
        for j in 0..<8 { store.append(keys: [Float(j), 1, 0, 0], values: [Float(j % 3)]) }
        let q: [Float] = [1e30, 0, 0, 0]
        let sel = PageSelection(pages: [[0, 1]])
        let s = 0x1p-1060
        let out = PagedAttention.attend(store: store, queries: q, selection: sel, scale: Float(s)).output
        #expect(SparseBound.compute(store: store, queries: q, selection: sel, output: out, scale: s).max == .infinity)
        #expect(SparseBound.compute(store: store, queries: q, selection: sel, output: out, scale: 0x1p-1022).max < 1)
    }
}
