import AttnCore
import AttnPaged
import Testing

/// `PagedBenchmarkSuite.validate`: each parameter out of range is named (timings are measured
/// by `attnbound bench paged`, never in tests).
@Suite struct PagedBenchmarkSuiteTests {
    func named(_ edit: (inout PagedBenchmarkSuite) -> Void) -> Parameter? {
        var s = PagedBenchmarkSuite()
        edit(&s)
        do { try s.validate() } catch let e as AttnError { return e.parameter } catch { return nil }
        return nil
    }

    @Test func eachBadParameterIsNamed() {
        #expect(named { _ in } == nil)
        #expect(named { $0.setup.context = 63 } == .context)
        #expect(named { $0.setup.d = 0 } == .d)
        #expect(named { $0.setup.kvHeads = 257 } == .kvHeads)
        #expect(named { $0.groups = [] } == .groups)
        #expect(named { $0.groups = [1, 65] } == .groups)
        #expect(named { $0.setup.pageSize = 0 } == .pageSize)
        #expect(named { $0.setup.budgetTokens = 16 } == .budget)  // below one page of 32
        #expect(named { $0.setup.budgetTokens = 32768 } == .budget)  // not below the context
        #expect(named { $0.accuracyContext = 255 } == .accuracyContext)
        #expect(named { $0.accuracySteps = 1 } == .accuracySteps)
        #expect(named { $0.accuracyBudget = 16 } == .accuracyBudget)
    }
}
