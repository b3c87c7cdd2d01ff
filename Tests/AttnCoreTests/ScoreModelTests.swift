import AttnCore
import Foundation
import Testing

/// `ScoreModel`: validation names the parameter at fault, the score of each term is the formula,
/// and computations refuse the terms they do not support.
@Suite struct ScoreModelTests {
    static func expectUsage(_ parameter: Parameter, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("no error for \(parameter)")
        } catch let e as AttnError {
            #expect(e.kind == .usage && e.parameter == parameter, "\(e)")
        } catch { Issue.record("\(error)") }
    }

    @Test("softcap: positive and finite only")
    func softcapValidation() throws {
        for c in [0.0, -1, .nan, .infinity, -.infinity] {
            Self.expectUsage(.softcap) { _ = try ScoreModel(softcap: c) }
        }
        #expect(try ScoreModel(softcap: 30).softcap == 30)
    }

    @Test("NaN or ±Inf in a bias, slope or sink names that parameter")
    func nonFiniteTerms() throws {
        for x in [Double.nan, .infinity, -.infinity] {
            Self.expectUsage(.bias) {
                _ = try ScoreModel(bias: try ScoreGrid(shape: [2], values: [0, x], parameter: .bias))
            }
            Self.expectUsage(.alibi) { _ = try ScoreModel(alibiSlopes: try .perHead([x], parameter: .alibi)) }
            Self.expectUsage(.sinks) { _ = try ScoreModel(sinks: try .perHead([1, x], parameter: .sinks)) }
        }
        // Slopes and sinks are per head: a grid that varies over rows or keys is refused.
        Self.expectUsage(.sinks) {
            _ = try ScoreModel(sinks: try ScoreGrid(shape: [1, 2], values: [0, 0], parameter: .sinks))
        }
    }

    @Test("shapes that do not broadcast to [batch, heads, n_q, n_k] name their parameter")
    func broadcastValidation() throws {
        let mask = try ScoreGrid(shape: [3, 4], values: [Bool](repeating: true, count: 12), parameter: .mask)
        let m = ScoreModel(mask: AttentionMask(explicit: mask))
        try m.validate(batch: 2, heads: 5, queries: 3, keys: 4)
        Self.expectUsage(.mask) { try m.validate(batch: 1, heads: 1, queries: 4, keys: 4) }
        let bias = try ScoreModel(bias: try ScoreGrid(shape: [2, 1, 1], values: [0, 1], parameter: .bias))
        try bias.validate(batch: 1, heads: 2, queries: 9, keys: 9)
        Self.expectUsage(.bias) { try bias.validate(batch: 1, heads: 3, queries: 9, keys: 9) }
        let alibi = try ScoreModel(alibiSlopes: try .perHead([0.5, 0.25], parameter: .alibi))
        Self.expectUsage(.alibi) { try alibi.validate(batch: 1, heads: 4, queries: 2, keys: 2) }
        let sinks = try ScoreModel(sinks: try .perHead(shape: [2, 1], values: [0, 1], parameter: .sinks))
        try sinks.validate(batch: 2, heads: 8, queries: 1, keys: 1)
        Self.expectUsage(.sinks) { try sinks.validate(batch: 3, heads: 8, queries: 1, keys: 1) }
    }

    @Test("score = softcap_c(x) + bias − slope·|i′ − j|, in that order")
    func scoreFormula() throws {
        let bias = try ScoreGrid(shape: [2, 3], values: [0.5, -1, 2, 0, 0.25, 3], parameter: .bias)
        let m = try ScoreModel(
            mask: .causal(.topLeft), softcap: 5, bias: bias,
            alibiSlopes: try .perHead([0.5, 2], parameter: .alibi), sinks: try .perHead([1, -1], parameter: .sinks))
        // Top-left: i′ = i. Head 1, row 1, key 0: 5·tanh(7/5) + 0 − 2·|1 − 0|.
        #expect(m.score(7, batch: 0, head: 1, row: 1, col: 0, queries: 2, keys: 3) == 5 * tanh(7.0 / 5) + 0 - 2)
        // Head 0, row 0, key 2: 5·tanh(−3/5) + 2 − 0.5·2.
        #expect(m.score(-3, batch: 0, head: 0, row: 0, col: 2, queries: 2, keys: 3) == 5 * tanh(-3.0 / 5) + 2 - 1)
        #expect(m.sink(batch: 0, head: 1) == -1 && ScoreModel.plain.sink(batch: 0, head: 0) == nil)
        #expect(ScoreModel.plain.score(123.5, batch: 0, head: 0, row: 0, col: 0, queries: 1, keys: 1) == 123.5)
        #expect(m.terms == [.softcap, .bias, .alibi, .sinks])
    }

    @Test("a computation refuses the first term it does not support, naming its parameter")
    func requireSupported() throws {
        let w = ScoreModel(mask: AttentionMask(window: try AttentionWindow(left: 3, right: 0)))
        Self.expectUsage(.window) { try w.requireSupported([], by: "this kernel") }
        try w.requireSupported([.leftWindow], by: "this kernel")
        try ScoreModel.causal(.topLeft).requireSupported([], by: "this kernel")
        let s = try ScoreModel(sinks: try .perHead([0], parameter: .sinks))
        Self.expectUsage(.sinks) { try s.requireSupported([.softcap], by: "this kernel") }
        Self.expectUsage(.causal) { try ScoreModel.causal().requireNoEmptyRows(queries: 3, keys: 2, by: "x") }
        try ScoreModel.causal(.topLeft).requireNoEmptyRows(queries: 3, keys: 2, by: "x")
    }
}
