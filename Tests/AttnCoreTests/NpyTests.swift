import AttnCore
import Foundation
import PropertyBased
import Testing

/// Builds .npy bytes by hand, the way NumPy lays them out, so the reader is
/// checked against the format rather than against our own writer.
enum NpyBytes {
    static func make(
        descr: String, fortran: Bool = false, shape: String, version: UInt8 = 1,
        body: [UInt8], headerText: String? = nil
    ) -> Data {
        var dict =
            headerText ?? "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
        let prefix = version == 1 ? 10 : 12
        let total = (prefix + dict.utf8.count + 1 + 63) / 64 * 64
        dict += String(repeating: " ", count: total - prefix - dict.utf8.count - 1) + "\n"
        var out = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0])
        let n = dict.utf8.count
        if version == 1 {
            out.append(contentsOf: [UInt8(n & 0xff), UInt8(n >> 8)])
        } else {
            out.append(contentsOf: [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff), UInt8(n >> 24)])
        }
        out.append(contentsOf: Array(dict.utf8))
        out.append(contentsOf: body)
        return out
    }

    static func bytes(_ xs: [Double], float32: Bool, bigEndian: Bool) -> [UInt8] {
        var out: [UInt8] = []
        for x in xs {
            if float32 {
                let b = bigEndian ? Float(x).bitPattern.bigEndian : Float(x).bitPattern.littleEndian
                withUnsafeBytes(of: b) { out.append(contentsOf: $0) }
            } else {
                let b = bigEndian ? x.bitPattern.bigEndian : x.bitPattern.littleEndian
                withUnsafeBytes(of: b) { out.append(contentsOf: $0) }
            }
        }
        return out
    }
}

@Suite("Npy: reading and writing .npy")
struct NpyTests {
    static let shapes = zip(Gen.int(in: 1...3), Gen.int(in: 0...4), Gen.int(in: 0...5), Gen.int(in: 1...5))

    @Test("write → read round trip is the identity, float32 and float64, 1–3 dims, empty arrays")
    func roundTrip() async {
        await propertyCheck(count: 200, input: Self.shapes, Gen.int(in: 0...1_000_000)) { dims, seed in
            let (rank, h, r, c) = dims
            var rng = Xoshiro256StarStar(seed: UInt64(seed))
            let heads = rank == 3 ? h : 1, rows = rank >= 2 ? r : 1
            let values = (0..<heads * rows * c).map { _ in rng.uniform(-1e3, 1e3) }
            let t64 = Tensor<Double>(heads: heads, rows: rows, cols: c, storage: values, logicalRank: rank)
            let back64: Tensor<Double> = try! Npy.decode(Npy.encode(t64))
            #expect(back64 == t64)
            let t32 = t64.converted(to: Float.self)
            let back32: Tensor<Float> = try! Npy.decode(Npy.encode(t32))
            #expect(back32 == t32)
            #expect(back32.shape == t32.shape)
        }
    }

    @Test("big-endian and Fortran-order files read as NumPy means them, in versions 1, 2 and 3")
    func layouts() async {
        await propertyCheck(
            count: 100, input: Gen.int(in: 1...4), Gen.int(in: 1...4), Gen.int(in: 1...3), Gen.int(in: 0...7)
        ) { rows, cols, version, flags in
            let bigEndian = flags & 1 == 1, fortran = flags & 2 == 2, float32 = flags & 4 == 4
            // Logical C-order matrix a[i][j] = 10 i + j.
            let cOrder = (0..<rows * cols).map { Double(10 * ($0 / cols) + $0 % cols) }
            let stored = fortran ? (0..<rows * cols).map { Double(10 * ($0 % rows) + $0 / rows) } : cOrder
            let descr = (bigEndian ? ">" : "<") + (float32 ? "f4" : "f8")
            let data = NpyBytes.make(
                descr: descr, fortran: fortran, shape: "(\(rows), \(cols))", version: UInt8(version),
                body: NpyBytes.bytes(stored, float32: float32, bigEndian: bigEndian))
            let t: Tensor<Double> = try! Npy.decode(data)
            #expect(t.storage == cOrder)
            #expect(t.shape == [rows, cols])
        }
    }

    @Test("Fortran order in three dimensions")
    func fortran3D() throws {
        // a[h][i][j] = 100h + 10i + j with shape (2, 3, 4), stored column-major.
        let shape = (2, 3, 4)
        var stored: [Double] = []
        for j in 0..<shape.2 {
            for i in 0..<shape.1 { for h in 0..<shape.0 { stored.append(Double(100 * h + 10 * i + j)) } }
        }
        let data = NpyBytes.make(
            descr: "<f8", fortran: true, shape: "(2, 3, 4)",
            body: NpyBytes.bytes(stored, float32: false, bigEndian: false))
        let t: Tensor<Double> = try Npy.decode(data)
        #expect(t[1, 2, 3] == 123)
        #expect(t[0, 1, 2] == 12)
    }

    @Test("1-D arrays and a trailing comma in a 1-tuple")
    func oneDimensional() throws {
        let data = NpyBytes.make(
            descr: "<f8", shape: "(3,)", body: NpyBytes.bytes([1, 2, 3], float32: false, bigEndian: false))
        let t: Tensor<Double> = try Npy.decode(data)
        #expect(t.shape == [3])
        #expect(t.storage == [1, 2, 3])
    }

    /// Each malformed input and the words its error must contain.
    static let rejections: [(String, Data, String)] = [
        ("bad magic", Data("NOTNUMPY".utf8) + Data(count: 100), "bad magic"),
        ("too short", Data([0x93, 0x4E]), "bad magic"),
        ("version 4", NpyBytes.make(descr: "<f8", shape: "(1,)", version: 4, body: []), "version 4.0"),
        ("object array", NpyBytes.make(descr: "|O", shape: "(1,)", body: [0, 0, 0, 0, 0, 0, 0, 0]), "object"),
        ("int64", NpyBytes.make(descr: "<i8", shape: "(1,)", body: [UInt8](repeating: 0, count: 8)), "int64"),
        ("bfloat16 as uint16", NpyBytes.make(descr: "<u2", shape: "(1,)", body: [0, 0]), "uint16"),
        ("float128", NpyBytes.make(descr: "<f16", shape: "(1,)", body: [UInt8](repeating: 0, count: 16)), "float128"),
        ("bool", NpyBytes.make(descr: "|b1", shape: "(1,)", body: [0]), "bool"),
        ("complex", NpyBytes.make(descr: "<c16", shape: "(1,)", body: [UInt8](repeating: 0, count: 16)), "complex128"),
        (
            "structured",
            NpyBytes.make(
                descr: "", shape: "(1,)", body: [],
                headerText: "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }"), "structured"
        ),
        ("truncated", NpyBytes.make(descr: "<f8", shape: "(4,)", body: [UInt8](repeating: 0, count: 24)), "truncated"),
        ("trailing", NpyBytes.make(descr: "<f8", shape: "(1,)", body: [UInt8](repeating: 0, count: 9)), "trailing"),
        (
            "5-D", NpyBytes.make(descr: "<f8", shape: "(1, 1, 1, 1, 1)", body: [UInt8](repeating: 0, count: 8)),
            "5-dimensional"
        ),
        ("truncated float16", NpyBytes.make(descr: "<f2", shape: "(2, 2)", body: [0, 0, 0, 0, 0, 0]), "truncated"),
        (
            "truncated 4-D", NpyBytes.make(descr: "<f4", shape: "(2, 2, 1, 1)", body: [UInt8](repeating: 0, count: 12)),
            "truncated"
        ),
        ("0-D", NpyBytes.make(descr: "<f8", shape: "()", body: [UInt8](repeating: 0, count: 8)), "0-dimensional"),
        ("huge shape", NpyBytes.make(descr: "<f8", shape: "(4611686018427387904, 4)", body: []), "address space"),
        (
            "overflowing dim", NpyBytes.make(descr: "<f8", shape: "(99999999999999999999999,)", body: []),
            "address space"
        ),
        ("big but in range", NpyBytes.make(descr: "<f4", shape: "(100000, 100000)", body: [0, 0, 0, 0]), "truncated"),
        (
            "no shape",
            NpyBytes.make(descr: "", shape: "", body: [], headerText: "{'descr': '<f8', 'fortran_order': False}"),
            "shape"
        ),
        (
            "garbage header",
            NpyBytes.make(
                descr: "", shape: "", body: [], headerText: "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1,)}"),
            "malformed header"
        ),
        (
            "unterminated", NpyBytes.make(descr: "", shape: "", body: [], headerText: "{'descr': '<f8"),
            "malformed header"
        ),
        (
            "negative dim",
            NpyBytes.make(
                descr: "", shape: "", body: [], headerText: "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }"
            ), "malformed header"
        ),
        ("header longer than file", Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0xff, 0xff, 0x7b]), "truncated"),
    ]

    @Test(
        "every malformed or unsupported input is rejected with a message naming the problem",
        arguments: NpyTests.rejections.indices)
    func rejects(_ index: Int) {
        let (label, data, words) = Self.rejections[index]
        do {
            let _: Tensor<Double> = try Npy.decode(data, name: "bad.npy")
            Issue.record("\(label): accepted")
        } catch let e as AttnError {
            #expect(e.kind == .usage, "\(label)")
            #expect(e.message.contains(words), "\(label): \(e.message)")
            #expect(e.message.hasPrefix("bad.npy"), "\(label): \(e.message)")
            #expect(!e.message.contains("\n"))
        } catch {
            Issue.record("\(label): unexpected \(error)")
        }
    }

    @Test("random bytes never crash the reader")
    func fuzz() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...255).array(of: 0...200), Gen.int(in: 0...3)) {
            tail, version in
            // A valid magic and version, then noise: must throw or decode, never trap.
            var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, UInt8(version), 0])
            data.append(contentsOf: tail.map(UInt8.init))
            _ = try? Npy.decode(data) as Tensor<Float>
        }
    }

    @Test("writing is atomic: a failed write leaves no file behind")
    func atomicWrite() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID())")
        let missing = dir.appendingPathComponent("nope/out.npy").path
        #expect(throws: AttnError.self) { try Npy.write(Tensor<Float>(rows: 1, cols: 1), to: missing) }
        #expect(!FileManager.default.fileExists(atPath: missing))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("out.npy").path
        try Npy.write(Tensor<Float>(rows: 2, cols: 2, storage: [1, 2, 3, 4]), to: path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.npy"])
        let back: Tensor<Float> = try Npy.read(path)
        #expect(back.storage == [1, 2, 3, 4])
    }
}

extension NpyTests {
    /// A header longer than 1.0's 16-bit length gets format 2.0 (32-bit length), which the
    /// reader parses back; a short one stays 1.0. Both keep the data 64-byte aligned.
    @Test("the writer's header: 1.0 when it fits, 2.0 when it does not")
    func headerVersionFollowsLength() throws {
        let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"
        let short = Npy.header(dict)
        #expect(Array(short[6...7]) == [1, 0])
        #expect(short.count % 64 == 0 && short.last == 0x0a)
        for extra in [65_535 - dict.utf8.count - 1, 65_535 - dict.utf8.count, 70_000] {
            // Python's literal syntax allows the padding inside the dict, so it is a valid header.
            let longDict = String(dict.dropLast()) + String(repeating: " ", count: extra) + "}"
            let bytes = Npy.header(longDict)
            #expect(bytes.count % 64 == 0 && bytes.last == 0x0a)
            let version = bytes[6]
            let length =
                version == 1
                ? Int(bytes[8]) | Int(bytes[9]) << 8
                : (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            #expect(length == bytes.count - (version == 1 ? 10 : 12))
            #expect(version == (bytes.count - 10 <= 65_535 ? 1 : 2))
            let body = NpyBytes.bytes([1, 2, 3, 4, 5, 6], float32: false, bigEndian: false)
            let t: Tensor<Double> = try Npy.decode(Data(bytes + body))
            #expect(t.shape == [2, 3] && t.storage == [1, 2, 3, 4, 5, 6])
        }
    }
}
