import AttnCore
import AttnPaged
import Foundation
import Testing

/// `KVReplayRequest` and `PolicyConfig.validate`: each parameter out of range is a usage error
/// naming that parameter; a run reports one row per step and query head, the summary, and no
/// failure while every certified bound holds.
@Suite struct KVReplayRequestTests {
    func synthetic(_ edit: (inout KVReplayRequest.Synthetic) -> Void = { _ in }) -> KVReplayRequest {
        var s = KVReplayRequest.Synthetic()
        (s.context, s.steps, s.kvHeads, s.group, s.dim) = (256, 5, 1, 2, 8)
        edit(&s)
        var r = KVReplayRequest(workload: .synthetic(s), config: PolicyConfig(budgetTokens: 128))
        r.pageSize = 16
        return r
    }

    func parameter(_ body: () throws -> Void) -> Parameter? {
        do { try body() } catch let e as AttnError { return e.kind == .usage ? e.parameter : nil } catch { return nil }
        return nil
    }

    @Test func eachBadParameterIsNamed() {
        #expect(parameter { try synthetic { $0.context = 0 }.validate() } == .context)
        #expect(parameter { try synthetic { $0.steps = 100_001 }.validate() } == .steps)
        #expect(parameter { try synthetic { $0.kvHeads = 65 }.validate() } == .kvHeads)
        #expect(parameter { try synthetic { $0.group = 0 }.validate() } == .group)
        #expect(parameter { try synthetic { $0.dim = 1 }.validate() } == .dim)
        #expect(parameter { try synthetic().validate() } == nil)
    }

    @Test func policyConfigChecksEachParameter() {
        func named(_ edit: (inout PolicyConfig) -> Void, pageSize: Int = 16) -> Parameter? {
            var c = PolicyConfig(budgetTokens: 64)
            edit(&c)
            return parameter { try c.validate(pageSize: pageSize) }
        }
        #expect(named({ _ in }) == nil)
        #expect(named({ $0.budgetTokens = 8 }) == .budget)  // below one page
        #expect(named({ _ in }, pageSize: 0) == .pageSize)
        #expect(named({ $0.sinkPages = -1 }) == .sinkPages)
        #expect(named({ $0.windowPages = 0 }) == .windowPages)
        #expect(named({ $0.topkPages = 0 }) == .topkPages)
        #expect(named({ $0.steadyMaxReuse = 0 }) == .steadyReuse)
        #expect(named({ $0.steadyCosine = 1.5 }) == .steadyCosine)
        #expect(named({ $0.steadyCosine = .nan }) == .steadyCosine)
    }

    @Test func syntheticRunReportsEveryStepAndHead() throws {
        let (report, records) = try synthetic().run()
        #expect(records.count == 5 * 2 && report.table?.rows.count == 10)
        #expect(report.table?.header == ReplayRecord.csvHeader)
        #expect(report.failure == nil && report.seed == 1 && report.command == "kv-replay")
        let keys = report.summary.map(\.0)
        #expect(keys.first == "steps" && keys.contains("max_error_bound") && keys.contains("bound_violations"))
        #expect(report.parameters.first?.1 == "synthetic")
        #expect(report.text.first == "policy arkvale, budget 128 tokens, page size 16, 5 steps")
    }

    @Test func filesAreReadAndNamedInTheParameters() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kvreq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = SmallProblem(seed: 3, kvHeads: 1, group: 2, d: 4, dv: 4, prompt: 16, steps: 3, pageSize: 4, bound: 1)
        let path = { (name: String) in dir.appendingPathComponent(name).path }
        try Npy.write(p.keys, to: path("k.npy"))
        try Npy.write(p.values, to: path("v.npy"))
        try Npy.write(p.queries, to: path("q.npy"))
        var r = KVReplayRequest(
            workload: .files(q: path("q.npy"), k: path("k.npy"), v: path("v.npy")),
            config: PolicyConfig(budgetTokens: 8))
        (r.policy, r.pageSize) = (.quest, 4)
        let (report, records) = try r.run()
        #expect(records.count == 3 * 2 && report.seed == nil)
        #expect(report.parameters.map(\.0).prefix(4) == ["workload", "k", "v", "q"])
    }
}
