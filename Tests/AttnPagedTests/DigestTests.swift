import AttnCore
import AttnPaged
import CVectorMath
import PropertyBased
import Testing

@Suite("Digests")
struct DigestTests {
    /// aabb and sphere-max scores are ≥ max_j q·k_j for every page, and so is the certified
    /// Double bound. Inputs are dyadic, so q·k_j and the Float aabb score are exact.
    @Test func boundingDigestsDominateTheTrueMax() async {
        await propertyCheck(
            count: 80, input: Gen.int(in: 0...Int(UInt32.max)), Gen.int(in: 1...32), Gen.int(in: 1...16)
        ) { seed, d, pageSize in
            var rng = Xoshiro256StarStar(seed: UInt64(seed))
            let store = PagedKVStore(layout: try! KVLayout(kvHeads: 1, d: d, dv: 1, pageSize: pageSize), capacity: nil)
            let tokens = pageSize * (1 + rng.below(6))
            var keys: [Float] = []
            for _ in 0..<tokens {
                let k = dyadic(&rng, count: d)
                keys += k
                store.append(keys: k, values: [0])
            }
            let dig = store.digests[0]
            #expect(dig.count == tokens / pageSize)
            for _ in 0..<4 {
                let q = dyadic(&rng, count: d)
                let aabb = dig.scores(kind: .aabb, query: q), sphere = dig.scores(kind: .sphereMax, query: q)
                for p in 0..<dig.count {
                    let truth = exactMaxDot(query: q, keys: keys, rows: p * pageSize..<(p + 1) * pageSize, d: d)
                    #expect(Double(aabb[p]) >= truth)
                    // The Float sphere score rounds a square root and a product: allow Float's relative rounding.
                    #expect(Double(sphere[p]) >= truth - 1e-5 * (abs(truth) + 1))
                    #expect(dig.certifiedUpperBound(page: p, query: q) >= truth)
                }
            }
        }
    }

    /// The certified bound also holds for full-precision Floats of any magnitude, against a
    /// compensated sum of the (exact) Double products.
    @Test func certifiedUpperBoundForGeneralFloats() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...Int(UInt32.max)), Gen.double(in: 0.01...1000)) {
            seed, scale in
            var rng = Xoshiro256StarStar(seed: UInt64(seed))
            let (d, P) = (24, 8)
            let store = PagedKVStore(layout: try! KVLayout(kvHeads: 1, d: d, dv: 1, pageSize: P), capacity: nil)
            var keys: [Float] = []
            for _ in 0..<(3 * P) {
                let k = (0..<d).map { _ in Float(rng.uniform(-scale, scale)) }
                keys += k
                store.append(keys: k, values: [0])
            }
            let q = (0..<d).map { _ in Float(rng.uniform(-scale, scale)) }
            for p in 0..<3 {
                var best = -Double.infinity
                for j in p * P..<(p + 1) * P {
                    var s = 0.0, comp = 0.0  // Neumaier summation
                    for c in 0..<d {
                        let x = Double(q[c]) * Double(keys[j * d + c]), t = s + x
                        comp += abs(s) >= abs(x) ? (s - t) + x : (x - t) + s
                        s = t
                    }
                    best = max(best, s + comp)
                }
                #expect(store.digests[0].certifiedUpperBound(page: p, query: q) >= best)
            }
        }
    }

    /// cuboid-mean is not a bound: an outlying key escapes the mean-deviation box.
    /// The box score computed a second way: in Double, term by term (each product of Floats exact), it must lie
    /// within γ_{d+2}·Σ|terms| of the Float score, whatever order the lanes are summed in (a chain of at most
    /// d/16 + 6 + d mod 16 roundings per term). A lost or doubled lane in the tree would be off by a whole term.
    /// Magnitudes 2^±20, so that no product leaves Float's normal range.
    @Test func boxScoreAgreesWithDouble() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...Int(UInt32.max)), Gen.int(in: 1...300)) { seed, d in
            var rng = Xoshiro256StarStar(seed: UInt64(seed))
            func entry() -> Float {
                Float(rng.uniform(-1, 1)) * Float(sign: .plus, exponent: rng.below(40) - 20, significand: 1)
            }
            let q = (0..<d).map { _ in entry() }, a = (0..<d).map { _ in entry() }, b = (0..<d).map { _ in entry() }
            let lo = zip(a, b).map { min($0, $1) }, hi = zip(a, b).map { max($0, $1) }
            let score = attnbound_box_score_f32(q.map { max($0, 0) }, q.map { min($0, 0) }, lo, hi, d)
            let terms = (0..<d).map { c in max(Double(q[c]) * Double(hi[c]), Double(q[c]) * Double(lo[c])) }
            let u = 0x1p-24, n = Double(d + 2), gamma = n * u / (1 - n * u)
            let exact = terms.reduce(0, +), magnitude = terms.reduce(0) { $0 + abs($1) }
            #expect(abs(Double(score) - exact) <= gamma * magnitude * (1 + 0x1p-20), "d = \(d)")
        }
    }

    /// The grouped box score (a GQA group's queries against one digest, as selection runs it) is, bit for bit,
    /// the single-query score of each query: selection does not depend on how the heads are grouped. Magnitudes
    /// from subnormal to 2^60, signs mixed, d across the 16-lane blocks and their tails, groups across the 4-wide
    /// blocks and their tails.
    @Test func groupedBoxScoresEqualSingleScores() async {
        await propertyCheck(
            count: 200, input: Gen.int(in: 0...Int(UInt32.max)), Gen.int(in: 1...70), Gen.int(in: 1...9)
        ) { seed, d, heads in
            var rng = Xoshiro256StarStar(seed: UInt64(seed))
            func entry() -> Float {
                let x = Float(rng.uniform(-1, 1)) * Float(sign: .plus, exponent: rng.below(200) - 140, significand: 1)
                return rng.below(8) == 0 ? 0 : x
            }
            let q = (0..<(heads * d)).map { _ in entry() }
            let qPos = q.map { max($0, 0) }, qNeg = q.map { min($0, 0) }
            let a = (0..<d).map { _ in entry() }, b = (0..<d).map { _ in entry() }
            let lo = zip(a, b).map { min($0, $1) }, hi = zip(a, b).map { max($0, $1) }
            // Page 1 of a two-page digest (page 0 all NaN: never read), three times in the list.
            let pages = [1, 1, 1]
            var grouped = [Float](repeating: .nan, count: heads * 5)
            attnbound_box_scores_f32(
                qPos, qNeg, heads, [Float](repeating: .nan, count: d) + lo, [Float](repeating: .nan, count: d) + hi, d,
                pages, pages.count, &grouped, 5)
            for g in 0..<heads {
                let single = attnbound_box_score_f32(
                    Array(qPos[(g * d)..<((g + 1) * d)]), Array(qNeg[(g * d)..<((g + 1) * d)]), lo, hi, d)
                for i in pages.indices { #expect(grouped[g * 5 + i].bitPattern == single.bitPattern) }
            }
        }
    }

    @Test func cuboidMeanIsNotABound() {
        let store = PagedKVStore(layout: try! KVLayout(kvHeads: 1, d: 1, dv: 1, pageSize: 4), capacity: nil)
        for k: Float in [0, 1, 1, 10] { store.append(keys: [k], values: [0]) }
        let q: [Float] = [1]
        // centre 5, mean |k − 5| = 4.5: the box [0.5, 9.5] misses the key 10.
        #expect(store.digests[0].scores(kind: .cuboidMean, query: q)[0] == 9.5)
        #expect(store.digests[0].scores(kind: .aabb, query: q)[0] == 10)
        #expect(store.digests[0].certifiedUpperBound(page: 0, query: q) >= 10)
    }
}
