import AttnCore
import Foundation
import Testing

/// The one reader on `.safetensors` and `.npz`: fixtures laid out by NumPy and by hand (the format,
/// not our writer), each malformed case the issue names, and naming (`PATH:NAME`, roles).
@Suite struct TensorFileTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// A safetensors file with a hand-written header and body.
    static func safetensors(header: String, body: [UInt8], lengthDelta: Int = 0) -> Data {
        var out = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count + lengthDelta).littleEndian) { out.append(contentsOf: $0) }
        return out + Data(header.utf8) + Data(body)
    }

    func decodeError(_ data: Data, _ source: TensorSource) -> AttnError? {
        do {
            _ = try TensorFile.decode(data, source: source, as: Double.self)
            return nil
        } catch { return error as? AttnError }
    }

    @Test func safetensorsFixtureReadsEveryDtypeExactlyAndRemembersIt() throws {
        let path = Self.fixture("mixed.safetensors")
        let b: StoredTensor<Double> = try TensorFile.read(TensorSource(path: path, name: "o_bf16"))
        #expect(b.storage == .bfloat16)
        #expect(
            b.tensor.storage == [
                1.0, -2.5, 0.15625, Double(Float(bitPattern: Float(3.0e38).bitPattern & 0xffff_0000)),
                Double(Float(bitPattern: Float(-1.0e-40).bitPattern & 0xffff_0000)), 0,
            ])
        let h: StoredTensor<Double> = try TensorFile.read(TensorSource(parsing: path + ":o"))
        #expect(h.storage == .float16 && h.tensor.shape == [2, 2])
        #expect(h.tensor.storage == [0.5, -0.25, 65504, Double(Float16(6e-8))])
        let e: StoredTensor<Double> = try TensorFile.read(TensorSource(path: path, name: "x8"))
        #expect(e.storage == .float8e4m3 && Array(e.tensor.storage.prefix(5)) == [0, 0x1p-9, 1, 448, -448])
        #expect(e.tensor.storage[5].isNaN)
        let d: StoredTensor<Float> = try TensorFile.read(TensorSource(path: path, name: "d"))
        #expect(d.storage == .float64 && d.tensor.storage == [Float(1.0 / 3)])
        #expect(try TensorFile.names(in: path).sorted() == ["d", "o", "o_bf16", "x8"])
    }

    @Test func safetensorsWriterAndReaderAgree() throws {
        let t = Tensor<Double>(heads: 2, rows: 3, cols: 2, storage: (0..<12).map { Double($0) / 4 - 1 })
        for type in [StorageType.float64, .float32, .float16, .bfloat16] {
            let data = try Safetensors.encode([("x", t, type), ("y", t, .float32)], metadata: ["a": "b"])
            let back: StoredTensor<Double> = try TensorFile.decode(
                data, source: TensorSource(path: "m.safetensors", name: "x"))
            #expect(back.tensor == t && back.storage == type)
        }
    }

    /// Each malformed safetensors case is one usage error naming the file.
    @Test(arguments: [
        ("header length beyond the file", safetensors(header: "{}", body: [], lengthDelta: 100), "beyond the file"),
        ("JSON that does not parse", safetensors(header: "{\"x\": [1,", body: []), "not valid JSON"),
        ("not a header object", safetensors(header: "[1, 2]", body: []), "malformed header"),
        (
            "overlapping offsets",
            safetensors(
                header:
                    #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                body: [UInt8](repeating: 0, count: 12)), "overlapping"
        ),
        (
            "offsets outside the data",
            safetensors(header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, body: [0, 0, 0, 0]),
            "outside"
        ),
        (
            "shape that does not match its bytes",
            safetensors(header: #"{"x":{"dtype":"F16","shape":[3],"data_offsets":[0,4]}}"#, body: [0, 0, 0, 0]),
            "does not match"
        ),
        (
            "missing name",
            safetensors(header: #"{"y":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, body: [0, 0, 0, 0]),
            "no tensor named 'x'"
        ),
        (
            "unsupported dtype",
            safetensors(header: #"{"x":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}}"#, body: [0, 0]),
            "unsupported dtype I8"
        ),
        (
            "negative dimension",
            safetensors(header: #"{"x":{"dtype":"F16","shape":[-2],"data_offsets":[0,4]}}"#, body: [0, 0, 0, 0]),
            "negative"
        ),
        ("too short", Data([1, 2, 3]), "not a safetensors file"),
    ])
    func malformedSafetensorsIsOneUsageError(_ what: String, _ data: Data, _ expected: String) {
        let e = decodeError(data, TensorSource(path: "bad.safetensors", name: "x"))
        #expect(e?.kind == .usage, "\(what)")
        #expect(e?.message.hasPrefix("bad.safetensors: ") == true, "\(what): \(e?.message ?? "no error")")
        #expect(e?.message.contains(expected) == true, "\(what): \(e?.message ?? "no error")")
    }

    @Test func npzStoredAndDeflatedReadAsNumPyWroteThem() throws {
        let q = (0..<12).map { Double(Float16(Float($0) / 8 - 0.5)) }
        let k = (0..<8).map { Double($0) * (2.0 / 7) - 1 }  // numpy.linspace(-1, 1, 8)
        for file in ["qk.npz", "qk_compressed.npz"] {
            let path = Self.fixture(file)
            let a: StoredTensor<Double> = try TensorFile.read(TensorSource(path: path, name: "q"))
            #expect(a.storage == .float16 && a.tensor.shape == [3, 4] && a.tensor.storage == q, "\(file)")
            let b: StoredTensor<Double> = try TensorFile.read(TensorSource(parsing: path + ":k"))
            #expect(b.storage == .float64 && b.tensor.storage == k, "\(file)")
            #expect(try TensorFile.names(in: path).sorted() == ["k", "q"])
        }
    }

    @Test func malformedNpzIsOneUsageError() throws {
        let plain = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("qk.npz")))
        let packed = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("qk_compressed.npz")))
        let notNpy = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("not_npy.npz")))
        #expect(decodeError(notNpy, TensorSource(path: "a.npz", name: "q"))?.message.contains("is not a .npy") == true)
        #expect(
            decodeError(plain, TensorSource(path: "a.npz", name: "v"))?.message.contains("no array named 'v'") == true)
        // Truncated: the directory is gone, or (directory kept) a member's data is cut short.
        #expect(decodeError(plain.prefix(300), TensorSource(path: "a.npz", name: "q"))?.kind == .usage)
        var cut = packed
        let firstData = 30 + 5 + 20  // local header, "q.npy", zip64 extra
        cut.replaceSubrange(firstData + 10..<firstData + 60, with: Data())
        let e = decodeError(cut, TensorSource(path: "a.npz", name: "q"))
        #expect(e?.kind == .usage, "\(e?.message ?? "no error")")
        // A flipped data byte fails the CRC (stored) or the inflate (deflated).
        for var d in [plain, packed] {
            d[firstData + 70] ^= 0x5a
            #expect(decodeError(d, TensorSource(path: "a.npz", name: "q"))?.kind == .usage)
        }
        #expect(decodeError(plain, TensorSource(path: "a.npz"))?.message.contains("needs a name") == true)
    }

    @Test func namingRolesAndSources() throws {
        #expect(
            TensorSource(parsing: "run.safetensors:o_flash") == TensorSource(path: "run.safetensors", name: "o_flash"))
        #expect(TensorSource(parsing: "dir/q.npy") == TensorSource(path: "dir/q.npy"))
        #expect(try TensorFiles.parseNames("q=query, k=key") == ["q": "query", "k": "key"])
        for bad in ["q", "zz=a", "q=a,q=b", "q="] {
            #expect(throws: AttnError.self) { try TensorFiles.parseNames(bad) }
        }
        let path = Self.fixture("mixed.safetensors")
        let files = TensorFiles(file: path, names: ["q": "d"], explicit: ["k": "k.npy"])
        #expect(try files.source("q", required: true) == TensorSource(path: path, name: "d"))
        #expect(try files.source("k", required: true) == TensorSource(path: "k.npy"))
        #expect(try files.source("lse", required: false) == nil)
        #expect(try files.source("o", required: false) == TensorSource(path: path, name: "o"))
        #expect(throws: AttnError.self) { try TensorFiles().source("q", required: true, parameter: .q) }
    }

    @Test func npyWithANameIsAnError() throws {
        let e = decodeError(
            Npy.encode(Tensor<Double>(rows: 1, cols: 1, storage: [1])), TensorSource(path: "x.npy", name: "q"))
        #expect(e?.message.contains("holds one array") == true)
    }
}
