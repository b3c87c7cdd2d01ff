import AttnCertified
import AttnCore
import Foundation
import Testing

/// The LSE candidate's shapes, its verdicts (base e and 2, fully masked rows) and its report
/// (Proofs/certified-lse.md §3).
@Suite struct LSEVerificationTests {
    static let shape = try! AttentionShape(
        q: Tensor<Double>(heads: 6, rows: 5, cols: 2, logicalRank: 4, batch: 2, headsPerBatch: 3),
        k: Tensor<Double>(heads: 2, rows: 4, cols: 2, logicalRank: 4, batch: 2, headsPerBatch: 1),
        v: Tensor<Double>(heads: 2, rows: 4, cols: 1, logicalRank: 4, batch: 2, headsPerBatch: 1))

    static func tensor(_ dims: [Int]) -> Tensor<Double> {
        let n = dims.reduce(1, *)
        switch dims.count {
        case 1: return Tensor(rows: 1, cols: n, storage: [Double](repeating: 0, count: n), logicalRank: 1)
        case 2: return Tensor(rows: dims[0], cols: dims[1], storage: [Double](repeating: 0, count: n))
        case 3: return Tensor(heads: dims[0], rows: dims[1], cols: dims[2], storage: [Double](repeating: 0, count: n))
        default:
            return Tensor(
                heads: dims[0] * dims[1], rows: dims[2], cols: dims[3], storage: [Double](repeating: 0, count: n),
                logicalRank: 4, batch: dims[0], headsPerBatch: dims[1])
        }
    }

    /// [batch, heads, n_q] and cuDNN's [..., n_q, 1] are read; other shapes name the parameter.
    @Test func acceptedShapes() throws {
        #expect(try LSECandidate(Self.tensor([2, 3, 5]), shape: Self.shape, atol: 0).values.count == 30)
        #expect(try LSECandidate(Self.tensor([2, 3, 5, 1]), shape: Self.shape, atol: 0).values.count == 30)
        for bad in [[3, 5], [2, 3, 4], [30], [2, 3, 5, 2]] {
            #expect(throws: AttnError.self) { try LSECandidate(Self.tensor(bad), shape: Self.shape, atol: 0) }
        }
        let one = try AttentionShape(
            q: Tensor<Double>(rows: 4, cols: 2), k: Tensor<Double>(rows: 3, cols: 2),
            v: Tensor<Double>(rows: 3, cols: 1))
        for ok in [[4], [4, 1], [1, 4], [1, 4, 1], [1, 1, 4], [1, 1, 4, 1]] {
            #expect(try LSECandidate(Self.tensor(ok), shape: one, atol: 0).values.count == 4, "\(ok)")
        }
        do {
            _ = try LSECandidate(Self.tensor([5]), shape: one, atol: 0)
            Issue.record("accepted a wrong length")
        } catch let e as AttnError { #expect(e.parameter == .lseCandidate) }
    }

    /// ln 2 ∈ [ln2Lo, ln2Hi], adjacent doubles (MPFR), so base-2 enclosures are outward.
    @Test func ln2BracketsAreAdjacentAndOutward() {
        let ln2 = MPFRFloat(precision: 200)
        let one = MPFRFloat(2, precision: 200)
        ln2.log(one, rounding: .nearest)
        let lo = 0x1.62e42fefa39efp-1, hi = 0x1.62e42fefa39fp-1
        #expect(ln2.compare(lo) > 0 && ln2.compare(hi) < 0 && lo.nextUp == hi)
    }

    /// Verdicts on a real enclosure through verify: a −∞ candidate on a fully masked row is exact,
    /// a finite one fails; base 2 is the natural-log value divided by ln 2.
    @Test func verdictsInBothBasesAndOnMaskedRows() throws {
        let q = Tensor<Double>(rows: 3, cols: 1, storage: [1, 2, 3])
        let k = Tensor<Double>(rows: 2, cols: 1, storage: [1, -1])
        let v = Tensor<Double>(rows: 2, cols: 1, storage: [5, 7])
        let shape = try AttentionShape(q: q, k: k, v: v)
        // Bottom-right causal: row 0 sees no key, row 1 key 0, row 2 both (scale 1).
        let truth = [-Double.infinity, 2, log(exp(3.0) + exp(-3.0))]
        let out = try CertifiedAttention.encloseRows(
            q: q, k: k, v: v, scale: .decimal("1"), scoreModel: .causal(), precision: 64,
            rows: (0..<3).map { (0, $0) })
        let candidate = Tensor<Double>(rows: 3, cols: 1, storage: out.map { $0.lo[0] })
        for base in LSEBase.allCases {
            let l = truth.map { base == .e ? $0 : $0 / log(2.0) }
            var options = VerifyOptions(atol: 1e-9)
            options.lse = try LSECandidate(
                Tensor(rows: 1, cols: 3, storage: l, logicalRank: 1), shape: shape, base: base, atol: 1e-12)
            let r = try TieredVerification.run(
                q: q, k: k, v: v, candidate: candidate, scale: .decimal("1"), scoreModel: .causal(), options: options)
            #expect(r.passed && r.maskedRows == 1 && r.lse?.entries == 3, "\(base): \(r.text)")
            #expect((r.lse?.maxErrorBound ?? 1) < 1e-13)  // the Double-computed candidate, a few ulps of 6
            var wrong = l
            wrong[0] = 0  // a finite LSE on a row with no key
            wrong[2] += 1e-6
            options.lse = try LSECandidate(
                Tensor(rows: 1, cols: 3, storage: wrong, logicalRank: 1), shape: shape, base: base, atol: 1e-9)
            let f = try TieredVerification.run(
                q: q, k: k, v: v, candidate: candidate, scale: .decimal("1"), scoreModel: .causal(), options: options)
            #expect(f.lse?.failing == 2 && !f.passed && f.lse?.row == 0 && f.lse?.maxErrorBound == .infinity)
        }
    }

    /// The `lse` object round-trips through JSON, and head shards merge into the whole run's report.
    @Test func reportRoundTripsAndShardsMerge() throws {
        let q = Tensor<Double>(heads: 2, rows: 3, cols: 1, storage: [1, 2, 3, -1, 0.5, 2])
        let k = Tensor<Double>(heads: 2, rows: 2, cols: 1, storage: [1, -1, 2, 0.25])
        let v = Tensor<Double>(heads: 2, rows: 2, cols: 1, storage: [5, 7, -1, 1])
        let shape = try AttentionShape(q: q, k: k, v: v)
        let rows = (0..<2).flatMap { f in (0..<3).map { (f, $0) } }
        let enc = try CertifiedAttention.encloseRows(
            q: q, k: k, v: v, scale: .standard, scoreModel: .causal(), precision: 64, rows: rows)
        let cand = Tensor<Double>(heads: 2, rows: 3, cols: 1, storage: enc.map { $0.hi[0] })
        let lse = Tensor<Double>(
            heads: 1, rows: 2, cols: 3, storage: enc.map { $0.lse.hi.isFinite ? $0.lse.hi + 1e-7 : -.infinity })
        var options = VerifyOptions(atol: 1e-9)
        options.lse = try LSECandidate(lse, shape: shape, atol: 1e-5)
        let whole = try TieredVerification.run(
            q: q, k: k, v: v, candidate: cand, scale: .standard, scoreModel: .causal(), options: options)
        var parts: [TieredVerificationReport] = []
        for h in 0..<2 {
            options.heads = h..<h + 1
            let r = try TieredVerification.run(
                q: q, k: k, v: v, candidate: cand, scale: .standard, scoreModel: .causal(), options: options)
            let text = JSONValue.object(r.jsonFields).serialized()
            #expect(text.contains("\"masked_rows\":1") && text.contains("\"lse\":{"))
            let back = try TieredVerificationReport(json: text)
            #expect(back.lse == r.lse && back.maskedRows == r.maskedRows)
            parts.append(back)
        }
        let merged = try TieredVerificationReport.merge(parts)
        #expect(merged.maskedRows == 2 && whole.maskedRows == 2)
        #expect(merged.lse?.maxErrorBound == whole.lse?.maxErrorBound && merged.lse?.entries == 6)
        #expect(merged.passed && (whole.lse?.maxErrorBound ?? 0) >= 1e-7)
    }
}
