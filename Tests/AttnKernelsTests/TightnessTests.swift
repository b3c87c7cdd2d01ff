import AttnCertified
import AttnCore
import AttnKernels
import AttnTestSupport
import Foundation
import Testing

/// How close the kernels' errors come to `ForwardErrorBound` (issue 11): the adversarial regimes
/// against the certified enclosure (its width is ≤ 2⁻⁹⁰ relative here), and the rounding
/// staircase, whose exact output is known, where the error reaches most of the bound.
@Suite struct KernelTightnessTests {
    /// Explicit regression cases, one or more per regime (no fixed-seed trait).
    static let cases: [AdversarialCase] = [
        AdversarialCase(regime: .nearTies, nq: 3, nk: 40, d: 4, dv: 2, magnitude: 20, scale: .standard, seed: 1),
        AdversarialCase(regime: .hugeNearTies, nq: 3, nk: 64, d: 2, dv: 2, magnitude: 3000, scale: .standard, seed: 2),
        AdversarialCase(regime: .hugeNearTies, nq: 2, nk: 300, d: 8, dv: 1, magnitude: 5000, scale: .paper, seed: 3),
        AdversarialCase(
            regime: .alignedRounding, nq: 2, nk: 200, d: 1, dv: 1, magnitude: 4000, scale: .decimal("1"), seed: 4),
        AdversarialCase(
            regime: .alignedRounding, nq: 1, nk: 2000, d: 1, dv: 1, magnitude: 8000, scale: .decimal("1"), seed: 5),
        AdversarialCase(regime: .longRows, nq: 2, nk: 3000, d: 4, dv: 2, magnitude: 30, scale: .standard, seed: 6),
        AdversarialCase(regime: .cancellingV, nq: 3, nk: 500, d: 3, dv: 3, magnitude: 500, scale: .standard, seed: 7),
        AdversarialCase(regime: .subnormalV, nq: 3, nk: 100, d: 2, dv: 2, magnitude: 10, scale: .standard, seed: 8),
        AdversarialCase(regime: .nearOverflowV, nq: 3, nk: 100, d: 2, dv: 2, magnitude: 10, scale: .standard, seed: 9),
        AdversarialCase(regime: .uniform, nq: 4, nk: 50, d: 8, dv: 2, magnitude: 3, scale: .paper, seed: 10),
    ]

    /// max over entries of |out − mid| / bound_row, and checks out ± bound ⊇ enclosure.
    static func ratio<T: AttnScalar>(
        _ out: Tensor<T>, bounds: RowBounds, _ r: CertifiedAttentionOutput,
        _ c: AdversarialCase, _ tracked: TrackedBound
    ) -> Double {
        var worst = 0.0
        for h in 0..<out.heads {
            for i in 0..<out.rows {
                for col in 0..<out.cols {
                    let o = Double(out[h, i, col]), lo = r.lower[h, i, col], hi = r.upper[h, i, col]
                    // Distance from o to the farthest point of the enclosure: the error is at most this.
                    let e = Swift.max(abs(o - lo), abs(hi - o))
                    let b = bounds[head: h, row: i]
                    #expect(
                        BoundLedger.shared.within(tracked, error: e, bound: b),
                        "\(tracked.rawValue) \(c) (\(h),\(i),\(col)): \(e) > \(b)")
                    if b > 0 { worst = Swift.max(worst, e / b) }
                }
            }
        }
        return worst
    }

    static func worst<T: KernelScalar>(_: T.Type, tracked: TrackedBound, reference: Bool = false) throws -> Double {
        var worst = 0.0
        for c in cases {
            let (q, k, v) = c.tensors(T.self)
            let r = try CertifiedAttention.compute(
                q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel, precision: 160)
            let tiles = TileSizes(queryTile: 4, keyTile: 7)
            let x: Double
            if reference {
                let out = try ReferenceAttention.compute(q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel)
                x = ratio(
                    out,
                    bounds: ForwardErrorBound.reference(q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel), r,
                    c,
                    tracked)
            } else {
                let out = try FastAttention.compute(
                    q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel, tiles: tiles)
                x = ratio(
                    out,
                    bounds: ForwardErrorBound.fastAttention(
                        q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel,
                        tiles: tiles, as: T.self), r, c, tracked)
            }
            print("tightness \(tracked.rawValue) \(c.regime.rawValue) seed \(c.seed): \(x)")
            worst = Swift.max(worst, x)
        }
        return worst
    }

    /// The rounding staircase (`RoundingStaircase`): the exact output is `RoundingStaircase.value`,
    /// so the error is measured without an enclosure. Every copy of the fused kernel is run (the
    /// bound must hold for each); `reference` runs `ReferenceAttention` on the Float64 staircase.
    static func staircase<T: KernelScalar>(_: T.Type, tracked: TrackedBound, reference: Bool = false) throws -> Double {
        // Two rows take the fused kernel's few-row path (decode), eight its register tile: both must be tight.
        var worst = 0.0
        for rows in reference ? [2] : [2, 8] {
            let u = reference ? Double.unitRoundoff : T.unitRoundoff
            let st = RoundingStaircase(rows: rows, keys: 4000, unitRoundoff: u)
            let (q, k, v) = st.tensors(T.self)
            var outputs: [(String, [Double])] = []
            let bounds: RowBounds
            if reference {
                outputs.append(("reference", try ReferenceAttention.compute(q: q, k: k, v: v, scale: st.scale).storage))
                bounds = ForwardErrorBound.reference(q: q, k: k, v: v, scale: st.scale)
            } else {
                for isa in KernelISA.allCases {
                    let out = try FastAttention.compute(q: q, k: k, v: v, scale: st.scale, isa: isa)
                    outputs.append(("\(isa)", out.storage.map(Double.init)))
                }
                bounds = ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: st.scale, as: T.self)
            }
            for (name, out) in outputs {
                var copyWorst = 0.0
                for i in 0..<st.rows {
                    let e = abs(out[i] - st.exactOutput), b = bounds[head: 0, row: i]
                    #expect(
                        BoundLedger.shared.within(tracked, error: e, bound: b),
                        "\(tracked.rawValue) \(st) \(name) row \(i): \(e) > \(b)")
                    copyWorst = Swift.max(copyWorst, e / b)
                }
                print("tightness \(tracked.rawValue) \(st) \(name): \(copyWorst)")
                worst = Swift.max(worst, copyWorst)
            }
        }
        return worst
    }

    /// The staircase must come within 2× of the bound (so that halving it fails, mutation rows kernel,
    /// fused, reference) and so above `requiredTightness`; the other regimes must stay within it.
    static func expectTight(_ w: Double) {
        #expect(w >= requiredTightness)
        #expect(w > 0.5, "halving the bound must fail somewhere: \(w)")
    }

    @Test func fastFloat() throws {
        let w = try Swift.max(
            Self.worst(Float.self, tracked: .fastKernelFloat), Self.staircase(Float.self, tracked: .fastKernelFloat))
        print("tightness worst \(TrackedBound.fastKernelFloat.rawValue): \(w)")
        Self.expectTight(w)
    }

    @Test func fastDouble() throws {
        let w = try Swift.max(
            Self.worst(Double.self, tracked: .fastKernelDouble), Self.staircase(Double.self, tracked: .fastKernelDouble)
        )
        print("tightness worst \(TrackedBound.fastKernelDouble.rawValue): \(w)")
        Self.expectTight(w)
    }

    @Test func reference() throws {
        let w = try Swift.max(
            Self.worst(Float.self, tracked: .referenceKernel, reference: true),
            Self.staircase(Float.self, tracked: .referenceKernel, reference: true))
        print("tightness worst \(TrackedBound.referenceKernel.rawValue): \(w)")
        Self.expectTight(w)
    }
}
