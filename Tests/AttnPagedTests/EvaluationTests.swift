import AttnCore
import AttnKernels
import AttnPaged
import PropertyBased
import Testing

@Suite("Step evaluation yardstick")
struct EvaluationTests {
    /// The replay's Double yardstick and ReferenceAttention agree within their two error bounds:
    /// the error each implies for the same sparse output differs by at most the sum of the bounds.
    @Test func yardstickAgreesWithReferenceAttention() async {
        await propertyCheck(
            count: 30, input: Gen.int(in: 0...Int(UInt32.max)), Gen.int(in: 1...3),
            Gen.int(in: 0...3).map { [0.5, 2.0, 8.0, 40.0][$0] }
        ) { seed, group, B in
            let P = 4
            let prob = SmallProblem(
                seed: UInt64(seed), kvHeads: 2, group: group, d: 12, dv: 3, prompt: 50, steps: 1, pageSize: P, bound: B)
            let L = try! KVLayout(kvHeads: 2, groupSize: group, d: 12, dv: 3, pageSize: P)
            var config = PolicyConfig(budgetTokens: 4 * P)
            config.windowPages = 1
            let decoder = PagedDecoder(
                layout: L, policy: try! PolicyKind.arkvale.make(config: config, layout: L), scale: .standard)
            let q = (0..<L.queryHeads).flatMap { h in (0..<12).map { prob.queries[h, 0, $0] } }
            decoder.prefill(keys: prob.keys, values: prob.values, count: 50, lastQueries: q)
            let r = decoder.step(keys: prob.keys, values: prob.values, row: 50, queries: q, certify: true)
            let ev = StepEvaluation.evaluate(
                store: decoder.store, queries: q, selection: r.selection, output: r.output, scale: .standard)
            let Q = Tensor(heads: 2, rows: group, cols: 12, storage: q)
            let ref = try! ReferenceAttention.compute(q: Q, k: prob.keys, v: prob.values, scale: .standard)
            let refBound = ForwardErrorBound.reference(q: Q, k: prob.keys, v: prob.values, scale: .standard)
            for h in 0..<L.queryHeads {
                var e = 0.0
                for c in 0..<3 { e = max(e, abs(Double(r.output[h * 3 + c]) - ref.storage[h * 3 + c])) }
                #expect(abs(e - ev.error[h]) <= ev.referenceBound[h] + refBound[h])
                #expect(ev.referenceBound[h] < 1e-9)
                #expect(e <= r.bound!.perHead[h] + refBound[h])
                #expect((0...1).contains(ev.attendedRecall[h]))
            }
        }
    }
}
