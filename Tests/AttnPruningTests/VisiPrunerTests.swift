import AttnCore
import AttnKernels
import AttnPruning
import AttnTestSupport
import PropertyBased
import Testing

@Suite struct VisiPrunerTests {
    /// Tokens: a text prefix, a vision block, text after (LLaVA's layout in miniature).
    func types(_ n: Int, seed: Int) throws -> TokenTypes {
        let start = 1 + seed % 4, end = min(n - 1, start + n / 2)
        return try TokenTypes(count: n, vision: [start..<max(start + 1, end)])
    }

    func tolerance<T: AttnScalar>(_ o: Tensor<T>, _ v: Tensor<T>) -> Double {
        // Double kernels against a Float64 reference: a few thousand ulps of max|V| covers
        // the online-softmax bound at these sizes (n ≤ 64, scores ≤ 4·d·B²·s).
        1e-12 * max(1, Double(v.maxAbs))
    }

    @Test func shallowMaskingEqualsMaskedReference() async throws {
        await propertyCheck(count: 20, input: Gen.int(in: 6...48), Gen.int(in: 0...1_000_000), Gen.bool()) {
            n, seed, causal in
            let (q, k, v) = randomQKV(heads: 2, nq: n, nk: n, d: 8, dv: 6, bound: 1.5, seed: seed, as: Double.self)
            let tt = try types(n, seed: seed)
            let firstVision = tt.isVision.firstIndex(of: true)!
            for sink in [nil, firstVision] {
                let (o, flops) = try VisiPruner.shallow(
                    q: q, k: k, v: v, scale: .standard, types: tt, sink: sink, scoreModel: causal ? .causal() : .plain)
                let ref = try VisiPrunerReference.shallow(
                    q: q, k: k, v: v, scale: .standard, types: tt, sink: sink, scoreModel: causal ? .causal() : .plain)
                #expect(ErrorMetrics.maxAbsDiff(o, ref) <= tolerance(o, v))
                #expect(flops.pruned <= flops.dense && flops.savedFraction >= 0)
            }
        }
    }

    @Test func pruningAndDeepDropEqualMaskedReference() async throws {
        await propertyCheck(count: 20, input: Gen.int(in: 6...48), Gen.int(in: 0...1_000_000), Gen.bool()) {
            n, seed, causal in
            let (q, k, v) = randomQKV(heads: 3, nq: n, nk: n, d: 8, dv: 8, bound: 2, seed: seed, as: Double.self)
            let tt = try types(n, seed: seed)
            let analysis = try VisiPruner.analyse(
                q: q, k: k, v: v, scale: .standard, types: tt,
                layerThreshold: 0.995, tokensThreshold: 0.05)
            let deep = tt.isVision.map { !$0 }
            for keep in [analysis.keep, deep] {
                let (o, flops) = try VisiPruner.prunedAttention(
                    q: q, k: k, v: v, scale: .standard, keep: keep, scoreModel: causal ? .causal() : .plain)
                let ref = try VisiPrunerReference.pruned(
                    q: q, k: k, v: v, scale: .standard, keep: keep, scoreModel: causal ? .causal() : .plain)
                #expect(ErrorMetrics.maxAbsDiff(o, ref) <= tolerance(o, v))
                if !causal {
                    let kept = Double(keep.filter { $0 }.count), all = Double(n)
                    #expect(abs(flops.savedFraction - (1 - kept * kept / (all * all))) < 1e-12)
                }
            }
        }
    }

    @Test func analysisKeepsTextAndFollowsThresholds() async throws {
        await propertyCheck(count: 20, input: Gen.int(in: 6...40), Gen.int(in: 0...1_000_000), Gen.double(in: 0...0.5))
        { n, seed, tokThr in
            let (q, k, v) = randomQKV(heads: 2, nq: n, nk: n, d: 4, dv: 4, bound: 2, seed: seed, as: Double.self)
            let tt = try types(n, seed: seed)
            let a = try VisiPruner.analyse(
                q: q, k: k, v: v, scale: .standard, types: tt, layerThreshold: 0.995,
                tokensThreshold: tokThr)
            for j in 0..<n {
                if !tt.isVision[j] {
                    #expect(a.keep[j])
                } else if a.prune {
                    #expect(a.keep[j] == (a.norms[j] > tokThr))
                } else {
                    #expect(a.keep[j])
                }
            }
            // The contributions sum to the last row's output: Σ_j c_j = o_last.
            let exact = try ReferenceAttention.compute(q: q, k: k, v: v, scale: .standard)
            for h in 0..<2 { for c in 0..<4 { #expect(abs(a.lastOutput[h * 4 + c] - exact[h, n - 1, c]) <= 1e-13) } }
            // A threshold of −1 (every cosine is ≥ −1) never prunes.
            let never = try VisiPruner.analyse(q: q, k: k, v: v, scale: .standard, types: tt, layerThreshold: -1)
            #expect(!never.prune && never.keep.allSatisfy { $0 })
        }
    }

    @Test func scheduleDropsVisionAfterTwoQuietLayers() throws {
        var s = VisiPrunerSchedule()
        let tt = try TokenTypes(count: 4, vision: [1..<3])
        let quiet = ContributionAnalysis(
            cosines: [1, 1, 1, 1], norms: [0, 0, 0, 0], minVisionCosine: 0.9995,
            prune: false, keep: [true, true, true, true])
        #expect(s.action(layer: 0, analysis: quiet, types: tt) == .shallowMask)
        #expect(s.action(layer: 6, analysis: quiet, types: tt) == .keep([true, true, true, true]))
        #expect(s.action(layer: 7, analysis: quiet, types: tt) == .dropAllVision)
    }
}
