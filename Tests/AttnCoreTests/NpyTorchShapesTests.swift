import AttnCore
import Foundation
import PropertyBased
import Testing

/// PyTorch-shaped files: 4-D `[batch, heads, n, d]`, float16, and the GQA
/// shape rules of `AttentionShape` (AttnKit.docc/Conventions.md "Tensors").
@Suite("Npy: PyTorch shapes, float16 and GQA")
struct NpyTorchShapesTests {
    @Test("4-D round trip keeps batch and heads, in float16, float32 and float64")
    func roundTrip4D() async {
        await propertyCheck(
            count: 100, input: zip(Gen.int(in: 0...3), Gen.int(in: 0...3), Gen.int(in: 0...4), Gen.int(in: 1...4)),
            Gen.int(in: 0...1_000_000)
        ) { dims, seed in
            let (b, h, n, d) = dims
            var rng = Xoshiro256StarStar(seed: UInt64(seed))
            // Halves: integers times powers of two in float16's range, so every value is a half.
            let values = (0..<b * h * n * d).map { _ in Double(Int(rng.uniform(-2048, 2048))) * 0x1p-8 }
            let t = Tensor<Double>(
                heads: b * h, rows: n, cols: d, storage: values, logicalRank: 4, batch: b, headsPerBatch: h)
            #expect(t.shape == [b, h, n, d])
            for dtype in [Npy.DType.float16, .float32, .float64] {
                let back: Tensor<Double> = try! Npy.decode(Npy.encode(t, dtype: dtype))
                #expect(back == t, "\(dtype)")
                #expect(back.shape == [b, h, n, d])
            }
        }
    }

    @Test("every float16 bit pattern converts exactly, both byte orders, as Float and Double")
    func float16Exhaustive() throws {
        var finite: [UInt16] = []
        for bits in 0...UInt16.max where (bits >> 10) & 0x1f != 31 { finite.append(bits) }
        for big in [false, true] {
            var body: [UInt8] = []
            for b in finite {
                let x = big ? b.bigEndian : b.littleEndian
                withUnsafeBytes(of: x) { body.append(contentsOf: $0) }
            }
            let data = NpyBytes.make(descr: big ? ">f2" : "<f2", shape: "(\(finite.count),)", body: body)
            let t64: Tensor<Double> = try Npy.decode(data)
            let t32: Tensor<Float> = try Npy.decode(data)
            for (i, b) in finite.enumerated() {
                let want = Float16(bitPattern: b)
                #expect(t64.storage[i] == Double(want) && t64.storage[i].sign == want.sign, "bits \(b)")
                #expect(t32.storage[i] == Float(want), "bits \(b)")
            }
        }
        // Infinities and NaN read as such (the attention reader then rejects them).
        let special = NpyBytes.make(descr: "<f2", shape: "(3,)", body: [0x00, 0x7c, 0x00, 0xfc, 0x01, 0x7e])
        let s: Tensor<Double> = try Npy.decode(special)
        #expect(s.storage[0] == .infinity && s.storage[1] == -.infinity && s.storage[2].isNaN)
    }

    @Test("writing float16 rounds to nearest even, and a hand-made float16 file reads as NumPy means it")
    func float16Writing() throws {
        let t = Tensor<Double>(rows: 1, cols: 4, storage: [1 + 0x1p-11, 1 + 3 * 0x1p-11, 65504, 0x1p-24])
        let back: Tensor<Double> = try Npy.decode(Npy.encode(t, dtype: .float16))
        #expect(back.storage == [1, 1 + 0x1p-9, 65504, 0x1p-24])
        let hand = NpyBytes.make(descr: "<f2", shape: "(1, 2)", body: [0x00, 0x3c, 0x00, 0xc0])  // 1, -2
        let h: Tensor<Double> = try Npy.decode(hand)
        #expect(h.storage == [1, -2] && h.shape == [1, 2])
    }

    @Test("a 4-D Fortran-order file reads in C order")
    func fortran4D() throws {
        // shape (2,1,2,2): C element [b,h,i,j] is at Fortran offset b + 2·(h + 1·(i + 2·j)).
        var f = [Double](repeating: 0, count: 8)
        for b in 0..<2 { for i in 0..<2 { for j in 0..<2 { f[b + 2 * (i + 2 * j)] = Double(100 * b + 10 * i + j) } } }
        let data = NpyBytes.make(
            descr: "<f8", fortran: true, shape: "(2, 1, 2, 2)",
            body: NpyBytes.bytes(f, float32: false, bigEndian: false))
        let t: Tensor<Double> = try Npy.decode(data)
        #expect(t.shape == [2, 1, 2, 2])
        #expect(t.storage == [0, 1, 10, 11, 100, 101, 110, 111])
    }

    static func tensor(_ shape: [Int]) -> Tensor<Double> {
        let n = shape.reduce(1, *)
        let s = (0..<n).map { Double($0 % 7) - 3 }
        switch shape.count {
        case 2: return Tensor(rows: shape[0], cols: shape[1], storage: s)
        case 3: return Tensor(heads: shape[0], rows: shape[1], cols: shape[2], storage: s, logicalRank: 3)
        default:
            return Tensor(
                heads: shape[0] * shape[1], rows: shape[2], cols: shape[3], storage: s,
                logicalRank: 4, batch: shape[0], headsPerBatch: shape[1])
        }
    }

    @Test("GQA: query head h of batch b uses KV head h / (heads_q / heads_kv) of batch b")
    func gqaMapping() throws {
        let p = try AttentionTensors(
            q: Self.tensor([2, 8, 3, 4]), k: Self.tensor([2, 2, 5, 4]), v: Self.tensor([2, 2, 5, 6]))
        #expect(p.shape.group == 4 && p.shape.flatHeads == 16)
        for b in 0..<2 {
            for h in 0..<8 {
                #expect(p.shape.kvHead(forQueryHead: b * 8 + h) == b * 2 + h / 4)
                #expect(p.shape.location(ofQueryHead: b * 8 + h) == (b, h))
            }
        }
        let (k, v) = p.expandedKV
        #expect(k.heads == 16 && v.heads == 16 && k.shape == [2, 8, 5, 4] && v.shape == [2, 8, 5, 6])
        for f in 0..<16 { #expect(k.head(f) == p.k.head(p.shape.kvHead(forQueryHead: f))) }
        // Without GQA the expansion is the identity.
        let plain = try AttentionTensors(
            q: Self.tensor([3, 2, 4]), k: Self.tensor([3, 5, 4]), v: Self.tensor([3, 5, 2]))
        #expect(plain.expandedKV.k == plain.k && plain.shape.group == 1)
    }

    static let mismatches: [([Int], [Int], [Int], String)] = [
        ([2, 8, 3, 4], [2, 3, 5, 4], [2, 3, 5, 4], "not a multiple"),
        ([2, 8, 3, 4], [1, 2, 5, 4], [1, 2, 5, 4], "batch"),
        ([2, 8, 3, 4], [2, 2, 5, 4], [2, 4, 5, 4], "but V has 4"),
        ([2, 8, 3, 4], [2, 2, 5, 3], [2, 2, 5, 4], "d = 4 but K has d = 3"),
        ([2, 8, 3, 4], [2, 2, 5, 4], [2, 2, 6, 4], "V has 6 rows"),
        ([4], [5, 4], [5, 4], "2, 3 or 4 dimensions"),
        ([0, 8, 3, 4], [0, 2, 5, 4], [0, 2, 5, 4], "at least 1"),
    ]

    @Test("shape mismatches are rejected naming the mismatch", arguments: NpyTorchShapesTests.mismatches.indices)
    func rejectsMismatch(_ i: Int) {
        let (qs, ks, vs, words) = Self.mismatches[i]
        let q =
            qs.count == 1
            ? Tensor<Double>(rows: 1, cols: qs[0], storage: [Double](repeating: 0, count: qs[0]), logicalRank: 1)
            : Self.tensor(qs)
        do {
            _ = try AttentionTensors(q: q, k: Self.tensor(ks), v: Self.tensor(vs))
            Issue.record("accepted \(qs) \(ks) \(vs)")
        } catch let e as AttnError {
            #expect(e.kind == .usage && e.message.contains(words), "\(e.message)")
        } catch { Issue.record("\(error)") }
    }

    @Test("the file reader names the file for a bad dtype, a 1-D array, NaN and a missing file")
    func readerRejections() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy4-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.npy").path
        try Npy.write(Self.tensor([1, 2, 3, 4]), to: good, dtype: .float16)
        let cases: [(String, Data, String)] = [
            ("int.npy", NpyBytes.make(descr: "<i4", shape: "(1, 1)", body: [0, 0, 0, 0]), "int32"),
            (
                "vec.npy", NpyBytes.make(descr: "<f8", shape: "(1,)", body: [UInt8](repeating: 0, count: 8)),
                "dimensions"
            ),
            ("nan.npy", NpyBytes.make(descr: "<f2", shape: "(1, 1)", body: [0x00, 0x7e]), "NaN"),
        ]
        for (name, data, words) in cases {
            let path = dir.appendingPathComponent(name).path
            try data.write(to: URL(fileURLWithPath: path))
            do {
                _ = try AttentionTensors<Double>(q: path, k: good, v: good)
                Issue.record("\(name) accepted")
            } catch let e as AttnError {
                #expect(e.kind == .usage && e.message.contains(name) && e.message.contains(words), "\(e.message)")
            }
        }
        let p = try AttentionTensors<Float>(q: good, k: good, v: good)
        #expect(p.shape == p.shape && p.q.shape == [1, 2, 3, 4])
        #expect(throws: AttnError.self) {
            _ = try AttentionTensors<Double>(q: dir.appendingPathComponent("none.npy").path, k: good, v: good)
        }
    }
}
