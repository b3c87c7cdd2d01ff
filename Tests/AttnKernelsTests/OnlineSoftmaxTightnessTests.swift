import AttnCore
import AttnKernels
import AttnTestSupport
import Testing

/// `ForwardErrorBound.fast`, the bound of `OnlineSoftmaxAccumulator` (the paged kernel's accumulator path), on
/// the rounding staircase fed tile by tile as the paged kernel feeds it: scores s·Q·Kᵀ by one gemm per tile, then
/// `absorb`. The block-sparse kernels left the accumulator for the tile engine (issue 22), so this test keeps its
/// bound's tightness tracked (mutation row `accumulator`; Proofs/online-softmax-error.md §3).
@Suite struct OnlineSoftmaxTightnessTests {
    /// Measured on OpenBLAS 0.3.21: with 16 × 16 outputs its sgemm sums a tile's keys in one chain per output up to
    /// 1024 keys (0.68 at 256, 0.89 at 1024). The bound assumes no order; only its tightness depends on the core.
    @Test func staircaseReachesMoreThanHalfTheBound() throws {
        var worst = 0.0
        for (rows, dv, keyTile) in [(16, 16, 256), (16, 16, 1024)] {
            let st = RoundingStaircase(rows: rows, keys: keyTile, valueCols: dv, unitRoundoff: Float.unitRoundoff)
            let (q, k, v): (Tensor<Float>, Tensor<Float>, Tensor<Float>) = st.tensors(Float.self)
            let acc = OnlineSoftmaxAccumulator<Float>(rows: rows, valueCols: dv)
            var scores = [Float](repeating: 0, count: rows * keyTile)
            var out = [Float](repeating: 0, count: rows * dv)
            let s = Float(st.scale.value(d: q.cols))
            q.storage.withUnsafeBufferPointer { qb in
                k.storage.withUnsafeBufferPointer { kb in
                    v.storage.withUnsafeBufferPointer { vb in
                        scores.withUnsafeMutableBufferPointer { sb in
                            Float.gemm(
                                transA: false, transB: true, m: rows, n: keyTile, k: q.cols, alpha: s,
                                a: qb.baseAddress!, lda: q.cols, b: kb.baseAddress!, ldb: q.cols, beta: 0,
                                c: sb.baseAddress!, ldc: keyTile)
                            acc.absorb(
                                scores: sb.baseAddress!, ldScores: keyTile, cols: keyTile, values: vb.baseAddress!,
                                ldValues: dv)
                        }
                    }
                }
            }
            out.withUnsafeMutableBufferPointer { acc.finish(into: $0.baseAddress!, ldOut: dv) }
            let bound = ForwardErrorBound.fast(
                q: q, k: k, v: v, scale: st.scale, tiles: TileSizes(queryTile: rows, keyTile: keyTile))
            var w = 0.0
            for i in 0..<rows {
                for c in 0..<dv {
                    let e = abs(Double(out[i * dv + c]) - st.exactOutput), b = bound[i]
                    #expect(BoundLedger.shared.within(.accumulator, error: e, bound: b), "\(st) row \(i): \(e) > \(b)")
                    w = max(w, e / b)
                }
            }
            print("tightness \(TrackedBound.accumulator.rawValue) \(st) keyTile \(keyTile): \(w)")
            worst = max(worst, w)
        }
        #expect(worst >= requiredTightness)
        #expect(worst > 0.5, "halving the bound must fail somewhere: \(worst)")
    }
}
