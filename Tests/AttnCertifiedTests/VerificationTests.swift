import AttnCertified
import AttnCore
import PropertyBased
import Testing

/// `errorBound(of:)`: honest outputs pass, one perturbed entry fails and is named.
@Suite struct VerificationTests {
    /// A Float32 rounding of the enclosure is an honest output: its certified
    /// error is at most one Float32 half-ulp plus the enclosure (≤ 1e-6 on
    /// |O| ≤ 1). Perturbing one entry by 1e-3 fails, at that entry.
    @Test func acceptsHonestRejectsPerturbedAndNamesTheEntry() async throws {
        await propertyCheck(count: 20, input: zip(Gen.int(in: 0...Int.max), Gen.int(in: 0...1_000_000))) { seed, pick in
            let p = Problem(seed: UInt64(seed), heads: 2, nq: 5, nk: 7, d: 3, dv: 3, bound: 2)
            let r = try! CertifiedAttention.compute(q: p.q, k: p.k, v: p.v, scale: .standard, precision: 128)
            var honest = Tensor<Float>(
                heads: 2, rows: 5, cols: 3,
                storage: zip(r.lower.storage, r.upper.storage).map { Float(($0 + $1) / 2) })
            let ok = try! r.errorBound(of: honest)
            #expect(ok.passes(tolerance: 1e-6))
            #expect(ok.maxErrorBound <= Double(Float.ulpOfOne))
            let e = pick % honest.count
            honest[flat: e] += 1e-3
            let bad = try! r.errorBound(of: honest)
            #expect(!bad.passes(tolerance: 1e-6))
            #expect(bad.maxErrorBound >= 0.9e-3)
            #expect(bad.head * 15 + bad.row * 3 + bad.col == e)
        }
    }

    /// The bound is certified: it is ≥ the distance to both ends of the enclosure.
    @Test func boundCoversTheEnclosure() async throws {
        await propertyCheck(count: 30, input: zip(smallProblems, Gen.double(in: -1...1))) { p, shift in
            let r = try! CertifiedAttention.compute(q: p.q, k: p.k, v: p.v, scale: .paper, precision: 64)
            let cand = Tensor<Double>(
                rows: r.lower.rows, cols: r.lower.cols, storage: r.lower.storage.map { $0 + shift })
            let b = try! r.errorBound(of: cand)
            for e in 0..<cand.count {
                #expect(b.maxErrorBound >= abs(cand.storage[e] - r.lower.storage[e]))
                #expect(b.maxErrorBound >= abs(cand.storage[e] - r.upper.storage[e]))
            }
        }
    }

    @Test func shapeMismatchAndNaN() throws {
        let q = Tensor<Float>(rows: 2, cols: 2, storage: [1, 0, 0, 1])
        let r = try CertifiedAttention.compute(q: q, k: q, v: q, scale: .paper)
        #expect(throws: AttnError.self) { try r.errorBound(of: Tensor<Float>(rows: 2, cols: 3)) }
        let nan = Tensor<Float>(rows: 2, cols: 2, storage: [0.5, .nan, 0.5, 0.5])
        let b = try r.errorBound(of: nan)
        #expect(b.maxErrorBound == .infinity && b.row == 0 && b.col == 1)
    }
}
