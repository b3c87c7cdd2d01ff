import AttnCore
import AttnKernels
import AttnTestSupport
import Foundation
import PropertyBased
import Testing

/// Properties that exact attention has, checked on both kernels; "equal"
/// means within the sum of the two computations' proved bounds.
@Suite("Invariances of exact attention")
struct InvarianceTests {
    static func within<T: KernelScalar>(
        _ a: Tensor<T>, _ b: Tensor<T>, _ ba: RowBounds, _ bb: RowBounds, _ note: String
    ) {
        for h in 0..<a.heads {
            for i in 0..<a.rows {
                let allowed = ba[head: h, row: i] + bb[head: h, row: i]
                for j in 0..<a.cols {
                    let e = abs(Double(a[h, i, j]) - Double(b[h, i, j]))
                    #expect(e <= allowed, "\(note) (\(h),\(i),\(j)): \(e) > \(allowed)")
                }
            }
        }
    }

    @Test("adding a constant to every score of a row changes nothing")
    func rowShift() async {
        // s·⟨[q, c/s], [k, 1]⟩ = s·⟨q, k⟩ + c: an extra column shifts row i by c_i.
        await propertyCheck(count: 100, input: AdversarialCase.generator(maxMagnitude: 5), Gen.int(in: -40...40)) {
            c0, shift in
            var c = c0
            c.scale = .decimal("0.5")
            let (q, k, v) = c.tensors(Float.self)
            var qs = Tensor<Float>(heads: q.heads, rows: q.rows, cols: q.cols + 1)
            var ks = Tensor<Float>(heads: k.heads, rows: k.rows, cols: k.cols + 1)
            for h in 0..<q.heads {
                for i in 0..<q.rows {
                    for j in 0..<q.cols { qs[h, i, j] = q[h, i, j] }
                    qs[h, i, q.cols] = Float(2 * (shift + i % 7))  // c_i/s with s = 1/2
                }
                for i in 0..<k.rows {
                    for j in 0..<k.cols { ks[h, i, j] = k[h, i, j] }
                    ks[h, i, k.cols] = 1
                }
            }
            let tiles = TileSizes(queryTile: 5, keyTile: 6)
            let a = try! FastAttention.compute(q: q, k: k, v: v, scale: c.scale, scoreModel: c.scoreModel, tiles: tiles)
            let b = try! FastAttention.compute(
                q: qs, k: ks, v: v, scale: c.scale, scoreModel: c.scoreModel, tiles: tiles)
            Self.within(
                a, b, ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: c.scale, tiles: tiles),
                ForwardErrorBound.fastAttention(q: qs, k: ks, v: v, scale: c.scale, tiles: tiles), "\(c) shift \(shift)"
            )
        }
    }

    @Test("permuting keys together with values changes nothing")
    func keyPermutation() async {
        await propertyCheck(count: 100, input: AdversarialCase.generator()) { c0 in
            var c = c0
            c.causal = false
            let (q, k, v) = c.tensors(Double.self)
            var rng = Xoshiro256StarStar(seed: c.seed ^ 0xABCD)
            var perm = Array(0..<k.rows)
            rng.shuffle(&perm)
            var kp = k, vp = v
            for h in 0..<k.heads {
                for (dst, src) in perm.enumerated() {
                    for j in 0..<k.cols { kp[h, dst, j] = k[h, src, j] }
                    for j in 0..<v.cols { vp[h, dst, j] = v[h, src, j] }
                }
            }
            let tiles = TileSizes(queryTile: 3, keyTile: 4)
            let a = try! FastAttention.compute(q: q, k: k, v: v, scale: c.scale, tiles: tiles)
            let b = try! FastAttention.compute(q: q, k: kp, v: vp, scale: c.scale, tiles: tiles)
            let bound = ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: c.scale, tiles: tiles, as: Double.self)
            Self.within(a, b, bound, bound, "\(c)")
        }
    }

    @Test("attention weights are non-negative and each row sums to 1")
    func weightsSumToOne() async {
        await propertyCheck(count: 100, input: AdversarialCase.generator()) { c in
            let (q, k, _) = c.tensors(Float.self)
            let w = try! ReferenceAttention.weights(q: q, k: k, scale: c.scale, scoreModel: c.scoreModel)
            for h in 0..<w.heads {
                for i in 0..<w.rows {
                    var sum = 0.0
                    for j in 0..<w.cols { #expect(w[h, i, j] >= 0); sum += w[h, i, j] }
                    #expect(abs(sum - 1) <= Double(2 * w.cols + 4) * 0x1p-53, "\(c) row \(i): \(sum)")
                }
            }
        }
    }

    @Test("with the causal mask, row i ignores keys and values after i + n_k − n_q (bitwise)")
    func causalIgnoresFuture() async {
        await propertyCheck(count: 100, input: AdversarialCase.generator(), Gen.int(in: 0...1000)) { c0, pick in
            var c = c0
            c.causal = true
            c.nq = min(c0.nq, c0.nk)
            c.nk = max(c0.nq, c0.nk)
            let (q, k, v) = c.tensors(Float.self)
            let row = pick % c.nq
            let last = AttentionMask.causal().visibleKeys(row: row, queries: c.nq, keys: c.nk).upperBound - 1
            var k2 = k, v2 = v
            for h in 0..<k.heads {
                for j in (last + 1)..<max(last + 1, k.rows) {
                    for x in 0..<k.cols { k2[h, j, x] = 1e4 }
                    for x in 0..<v.cols { v2[h, j, x] = -7 }
                }
            }
            let tiles = TileSizes(queryTile: 4, keyTile: 3)
            let a = try! FastAttention.compute(q: q, k: k, v: v, scale: c.scale, scoreModel: .causal(), tiles: tiles)
            let b = try! FastAttention.compute(q: q, k: k2, v: v2, scale: c.scale, scoreModel: .causal(), tiles: tiles)
            let ra = try! ReferenceAttention.compute(q: q, k: k, v: v, scale: c.scale, scoreModel: .causal())
            let rb = try! ReferenceAttention.compute(q: q, k: k2, v: v2, scale: c.scale, scoreModel: .causal())
            for h in 0..<q.heads {
                for j in 0..<v.cols {
                    #expect(a[h, row, j] == b[h, row, j], "\(c) row \(row)")
                    #expect(ra[h, row, j] == rb[h, row, j], "\(c) row \(row)")
                }
            }
        }
    }

    @Test("a decode step (n_q = 1) equals the last row of the full causal computation")
    func decodeEqualsLastRow() async {
        await propertyCheck(count: 100, input: AdversarialCase.generator()) { c0 in
            var c = c0
            c.nq = c.nk
            c.causal = true
            let (q, k, v) = c.tensors(Float.self)
            let full = try! FastAttention.compute(q: q, k: k, v: v, scale: c.scale, scoreModel: .causal())
            var last = Tensor<Float>(heads: q.heads, rows: 1, cols: q.cols)
            for h in 0..<q.heads { for j in 0..<q.cols { last[h, 0, j] = q[h, q.rows - 1, j] } }
            let step = try! FastAttention.compute(q: last, k: k, v: v, scale: c.scale, scoreModel: .causal())
            let bFull = ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: c.scale)
            let bStep = ForwardErrorBound.fastAttention(q: last, k: k, v: v, scale: c.scale)
            for h in 0..<q.heads {
                for j in 0..<v.cols {
                    let e = abs(Double(full[h, q.rows - 1, j]) - Double(step[h, 0, j]))
                    #expect(e <= bFull[h * q.rows + q.rows - 1] + bStep[h], "\(c)")
                }
            }
        }
    }

    @Test("explicit regression: one key gives exactly its value; equal keys give the mean")
    func exactCases() throws {
        let q = Tensor<Double>(rows: 2, cols: 3, storage: [1, -2, 3, 0.5, 0.25, -4])
        let k1 = Tensor<Double>(rows: 1, cols: 3, storage: [9, 9, -9])
        let v1 = Tensor<Double>(rows: 1, cols: 2, storage: [0.125, -3])
        let o1 = try FastAttention.compute(q: q, k: k1, v: v1, scale: .paper)
        #expect(o1.storage == [0.125, -3, 0.125, -3])
        let k4 = Tensor<Double>(rows: 4, cols: 3, storage: [Double](repeating: 0.5, count: 12))
        let v4 = Tensor<Double>(rows: 4, cols: 1, storage: [1, 2, 3, 6])
        let o4 = try FastAttention.compute(q: q, k: k4, v: v4, scale: .standard)
        #expect(o4.storage == [3, 3])
    }
}
