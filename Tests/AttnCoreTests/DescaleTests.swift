import AttnCore
import Foundation
import Testing

/// fp8 descale factors: exact dequantization per (batch, KV head), and the refusals.
@Suite struct DescaleTests {
    /// Q [1, 4, 2, 2] (GQA: 2 KV heads), K and V [1, 2, 2, 2], all e4m3 values.
    static func problem() throws -> AttentionTensors<Double> {
        let codes: [UInt8] = [0x38, 0x40, 0xb8, 0x30, 0x7e, 0x01, 0x44, 0x3c]
        func t(_ heads: Int) -> Tensor<Double> {
            let xs = (0..<heads * 4).map { NarrowFloat.e4m3(codes[$0 % codes.count]) }
            return Tensor(heads: heads, rows: 2, cols: 2, storage: xs, logicalRank: 4, batch: 1, headsPerBatch: heads)
        }
        return try AttentionTensors(q: t(4), k: t(2), v: t(2))
    }

    @Test func perHeadFactorsDequantizeExactlyAndFollowGQA() throws {
        let p = try Self.problem()
        let s = Tensor<Double>(heads: 1, rows: 1, cols: 2, storage: [0.5, Double(Float(0.1))], logicalRank: 2)
        let d = try p.dequantized(q: .perHead(s), k: .scalar(2), v: nil)
        for f in 0..<4 {  // query heads 0, 1 use KV head 0; 2, 3 use KV head 1
            let factor = f < 2 ? 0.5 : Double(Float(0.1))
            for i in 0..<4 { #expect(d.q[flat: f * 4 + i] == p.q[flat: f * 4 + i] * factor) }
        }
        #expect(d.k.storage == p.k.storage.map { $0 * 2 } && d.v == p.v)
    }

    @Test func badFactorsAreUsageErrorsNamingTheFlag() throws {
        let p = try Self.problem()
        for bad in [0.0, -1, .nan, .infinity] {
            #expect(throws: AttnError.usage(.kDescale, "a descale factor must be finite and > 0, got \(bad)")) {
                _ = try p.dequantized(q: nil, k: .scalar(bad), v: nil)
            }
        }
        let wrong = Tensor<Double>(rows: 1, cols: 3, storage: [1, 1, 1])
        #expect(throws: AttnError.self) { _ = try p.dequantized(q: .perHead(wrong), k: nil, v: nil) }
        for text in ["0", "-2", "nan", "inf"] {
            #expect(throws: AttnError.self) { _ = try Descale(parsing: text, parameter: .qDescale) }
        }
        #expect(try Descale(parsing: "0.1", parameter: .qDescale) == .scalar(Double(Float(0.1))))
        // A product that would round is refused: 1 + 2⁻⁵² times 3 needs 54 bits.
        let wide = try AttentionTensors<Double>(
            q: Tensor(rows: 1, cols: 1, storage: [1 + 0x1p-52]), k: Tensor(rows: 1, cols: 1, storage: [1]),
            v: Tensor(rows: 1, cols: 1, storage: [1]))
        #expect(throws: AttnError.self) { _ = try wide.dequantized(q: .scalar(3), k: nil, v: nil) }
    }
}
