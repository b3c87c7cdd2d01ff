import AttnCore
import AttnPaged
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
