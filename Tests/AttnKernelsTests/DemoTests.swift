import AttnCore
import AttnKernels
import Testing

/// `Demo.run`: its parameters are checked by name, and on small inputs the a-priori bound holds,
/// so the report carries no failure; its JSON keys follow the conventions (`_error`, `_bound`).
struct DemoTests {
    @Test func rejectsOutOfRangeParametersByName() {
        let cases: [((inout Demo.Parameters) -> Void, Parameter)] = [
            ({ $0.n = 0 }, .n), ({ $0.n = 8193 }, .n), ({ $0.d = 0 }, .d), ({ $0.d = 513 }, .d),
            ({ $0.B = -1 }, .B), ({ $0.B = .nan }, .B), ({ $0.B = .infinity }, .B),
        ]
        for (edit, parameter) in cases {
            var p = Demo.Parameters()
            edit(&p)
            let error = #expect(throws: AttnError.self) { try Demo.run(p) }
            #expect(error?.parameter == parameter && error?.kind == .usage)
        }
    }

    @Test func boundHoldsOnSmallInputs() throws {
        var p = Demo.Parameters()
        (p.n, p.d, p.seed) = (48, 8, 7)
        let r = try Demo.run(p)
        #expect(r.failure == nil)
        #expect(r.seed == 7 && r.command == "demo")
        #expect(r.text.first == "attnbound demo: n = 48, d = 8, B = 1.0, scale = standard, seed = 7")
        #expect(r.text.last?.hasSuffix("(holds)") == true)
        let keys = r.summary.map(\.0)
        #expect(keys.contains("max_abs_error") && keys.contains("max_error_bound"))
    }
}
