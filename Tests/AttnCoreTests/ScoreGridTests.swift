import AttnCore
import PropertyBased
import Testing

/// `ScoreGrid`: PyTorch's broadcasting of `attn_mask` over [batch, heads, n_q, n_k], and per-head values.
@Suite struct ScoreGridTests {
    @Test("a [n_q, n_k] grid repeats over batch and heads; [heads, 1, n_k] over rows")
    func broadcasting() throws {
        let g = try ScoreGrid(shape: [2, 3], values: [0.0, 1, 2, 3, 4, 5], parameter: .bias)
        #expect(g.axes == [1, 1, 2, 3])
        #expect(g[batch: 1, head: 4, row: 1, col: 2] == 5)
        #expect(g.broadcasts(batch: 7, heads: 3, queries: 2, keys: 3))
        #expect(!g.broadcasts(batch: 1, heads: 1, queries: 3, keys: 3))
        let h = try ScoreGrid(shape: [2, 1, 3], values: [0.0, 1, 2, 10, 11, 12], parameter: .bias)
        #expect(h[batch: 5, head: 1, row: 9, col: 1] == 11)
        #expect(h.broadcasts(batch: 2, heads: 2, queries: 9, keys: 3))
        #expect(!h.broadcasts(batch: 2, heads: 3, queries: 9, keys: 3))
        let scalar = try ScoreGrid(shape: [], values: [true], parameter: .mask)
        #expect(scalar[batch: 3, head: 2, row: 1, col: 0] && scalar.broadcasts(batch: 4, heads: 4, queries: 4, keys: 4))
    }

    @Test("per-head values: [heads] and [batch, heads], constant over rows and keys")
    func perHead() throws {
        let s = try ScoreGrid.perHead([0.5, 0.25], parameter: .alibi)
        #expect(s.axes == [1, 2, 1, 1] && !s.variesWithinHead)
        #expect(s[batch: 3, head: 1, row: 0, col: 0] == 0.25)
        let b = try ScoreGrid.perHead(shape: [2, 2], values: [1.0, 2, 3, 4], parameter: .alibi)
        #expect(b[batch: 1, head: 0, row: 0, col: 0] == 3)
        #expect(!b.broadcasts(batch: 3, heads: 2, queries: 1, keys: 1))
        #expect(throws: AttnError.self) {
            try ScoreGrid.perHead(shape: [1, 2, 2], values: [Double](repeating: 0, count: 4), parameter: .sinks)
        }
    }

    @Test("bad shapes are usage errors naming the parameter")
    func badShapes() {
        for (shape, count) in [([2, 3], 5), ([1, 1, 1, 1, 1], 1), ([-1, 2], 0)] {
            do {
                _ = try ScoreGrid(shape: shape, values: [Double](repeating: 0, count: count), parameter: .bias)
                Issue.record("\(shape) accepted")
            } catch let e as AttnError { #expect(e.kind == .usage && e.parameter == .bias) } catch {
                Issue.record("\(error)")
            }
        }
        #expect(throws: AttnError.self) {
            try ScoreGrid(shape: [Int.max, 4], values: [Double](), parameter: .bias)
        }
    }

    @Test("the subscript equals the row-major index with broadcast axes pinned to 0 (random shapes)")
    func subscriptMatchesDefinition() async {
        let axis = Gen.int(in: 1...3)
        await propertyCheck(input: axis, axis, axis, axis, Gen.int(in: 0...15)) { b, h, nq, nk, ones in
            let full = [b, h, nq, nk]
            let shape = full.enumerated().map { ones & (1 << $0.offset) != 0 ? 1 : $0.element }
            let values = (0..<shape.reduce(1, *)).map(Double.init)
            let g = try! ScoreGrid(shape: shape, values: values, parameter: .bias)
            #expect(g.broadcasts(batch: b, heads: h, queries: nq, keys: nk))
            for x in 0..<b {
                for y in 0..<h {
                    for i in 0..<nq {
                        for j in 0..<nk {
                            let idx = zip([x, y, i, j], shape).map { $1 == 1 ? 0 : $0 }
                            let flat = ((idx[0] * shape[1] + idx[1]) * shape[2] + idx[2]) * shape[3] + idx[3]
                            #expect(g[batch: x, head: y, row: i, col: j] == Double(flat))
                        }
                    }
                }
            }
        }
    }
}
