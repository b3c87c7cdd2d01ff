import AttnBlockSparse
import AttnCore
import Testing

/// `DbspPlanRequest`: each parameter out of range is named; a plan has one row per
/// factorisation with one chosen; an execution adds the per-device report and stays exact.
@Suite struct DbspPlanRequestTests {
    func named(_ edit: (inout DbspPlanRequest) -> Void) -> Parameter? {
        var r = DbspPlanRequest()
        edit(&r)
        return usageParameter { try r.validate() }
    }

    @Test func eachBadParameterIsNamed() {
        #expect(named { _ in } == nil)
        #expect(named { $0.ulysses = 2 } == .ulysses)  // without a ring degree
        #expect(named { ($0.ulysses, $0.ring) = (0, 1) } == .ulysses)
        #expect(named { $0.devices = 0 } == .devices)
        #expect(named { $0.heads = 0 } == .heads)
        #expect(named { $0.blocks = 4097 } == .blocks)
        #expect(named { ($0.minDensity, $0.maxDensity) = (0.5, 0.4) } == .minDensity)
        #expect(named { $0.maxDensity = 1.5 } == .maxDensity)
        #expect(named { $0.blockSize = 0 } == .blockSize)
        #expect(named { $0.headDim = 0 } == .headDim)
        #expect(named { $0.bytesPerElement = 17 } == .bytesPerElement)
        #expect(named { $0.denseSeconds = 0 } == .denseSeconds)
        #expect(named { $0.bandwidth = .infinity } == .bandwidth)
        #expect(named { $0.launchSeconds = -1 } == .launchSeconds)
        #expect(named { $0.latency = .nan } == .latency)
        #expect(named { $0.rewards = [0, -1] } == .rewards)
    }

    @Test func planAndExecution() throws {
        var r = DbspPlanRequest()
        (r.heads, r.blocks, r.blockSize, r.headDim, r.devices, r.execute) = (8, 8, 8, 8, 4, true)
        var notes: [String] = []
        let (plan, devices) = try r.run { notes.append($0) }
        let chosen = try #require(plan.table?.header.firstIndex(of: "chosen"))
        #expect(plan.table?.rows.count == 3 && plan.table?.rows.filter { $0[chosen] == "1" }.count == 1)
        #expect(
            plan.failure == nil && plan.seed == 1 && plan.text.first?.hasPrefix("dbsp plan (seed 1): chose") == true)
        #expect(devices?.table?.rows.count == 4 && devices?.command == "dbsp plan")
        #expect(notes == ["dbsp: simulated 4 devices; output bitwise equal to the unpartitioned kernel"])
        r.execute = false
        #expect(try r.run().devices == nil)
    }
}
