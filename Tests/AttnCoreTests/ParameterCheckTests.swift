import AttnCore
import Testing

/// `Parameter.require`: the error is a usage error naming the parameter, in plain words.
@Suite struct ParameterCheckTests {
    @Test func rangeAndCondition() throws {
        try Parameter.steps.require(3, in: 1...3)
        #expect(throws: AttnError.usage(.steps, "must be in 1...3")) { try Parameter.steps.require(4, in: 1...3) }
        try Parameter.budget.require(true, "never")
        #expect(throws: AttnError.usage(.budget, "too small")) { try Parameter.budget.require(false, "too small") }
    }
}
