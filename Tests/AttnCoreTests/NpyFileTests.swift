import AttnCore
import Foundation
import Testing

/// Npy+File: the direct reader and writer give the same tensors and bytes as `decode` and `encode`, and
/// leave every other file (and every malformed one) to them.
struct NpyFileTests {
    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-file-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func sample<T: AttnScalar>(_: T.Type, heads: Int = 3, rows: Int = 5, cols: Int = 7) -> Tensor<T> {
        var t = Tensor<T>(heads: heads, rows: rows, cols: cols, logicalRank: 3)
        for x in 0..<t.count { t[flat: x] = T(Double(x) * 0.37 - 4) }
        return t
    }

    /// Written natively, the bytes are `encode`'s; read natively, the tensor is `decode`'s (Float and Double,
    /// 1 to 4 axes, zero-size included).
    @Test func directPathsMatchEncodeAndDecode() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (i, t) in [sample(Float.self), sample(Float.self, heads: 1, rows: 0, cols: 4)].enumerated() {
            let url = dir.appendingPathComponent("f\(i).npy")
            try Npy.write(t, to: url.path)
            #expect(try Data(contentsOf: url) == Npy.encode(t))
            let direct = try #require(try Npy.readNative(url.path, as: Float.self))
            #expect(direct.0 == (try Npy.decode(Data(contentsOf: url), as: Float.self)))
            #expect(direct.1 == .float32)
        }
        let d = sample(Double.self)
        let url = dir.appendingPathComponent("d.npy")
        try Npy.write(d, to: url.path)
        #expect(try Data(contentsOf: url) == Npy.encode(d))
        #expect(try Npy.readNative(url.path, as: Double.self)?.0 == d)
        // A 4-D file keeps batch and heads.
        let four = Tensor<Float>(
            heads: 6, rows: 2, cols: 3, storage: (0..<36).map(Float.init), logicalRank: 4, batch: 2, headsPerBatch: 3)
        try Npy.write(four, to: url.path)
        let back: Tensor<Float> = try Npy.read(url.path)
        #expect(back == four && back.shape == [2, 3, 2, 3])
    }

    /// Another stored type, big-endian data or a damaged file: the direct reader declines (nil) and the
    /// general reader converts, or reports the problem with its own message.
    @Test func declinesWhatItDoesNotHandle() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = sample(Float.self)
        let url = dir.appendingPathComponent("t.npy")
        try Npy.write(t, to: url.path, dtype: .float64)
        #expect(try Npy.readNative(url.path, as: Float.self) == nil)
        #expect(try Npy.read(url.path, as: Float.self) == t)

        var big = [UInt8](Npy.encode(t))  // the same file, big-endian
        let headerEnd = big.count - 4 * t.count
        let lt = try #require((0..<headerEnd - 2).first { big[$0..<$0 + 3] == [0x3C, 0x66, 0x34] })  // "<f4"
        big[lt] = 0x3E  // ">"
        for x in stride(from: headerEnd, to: big.count, by: 4) { big[x..<x + 4].reverse() }
        try Data(big).write(to: url)
        #expect(try Npy.readNative(url.path, as: Float.self) == nil)
        #expect(try Npy.read(url.path, as: Float.self) == t)

        let whole = Npy.encode(t)
        for cut in [whole.count - 1, whole.count - 4 * t.count, 11, 3] {
            try whole.prefix(cut).write(to: url)
            #expect(try Npy.readNative(url.path, as: Float.self) == nil)
            #expect(throws: AttnError.self) { try Npy.read(url.path, as: Float.self) }
        }
        try (whole + Data([0])).write(to: url)
        #expect(try Npy.readNative(url.path, as: Float.self) == nil)
        #expect(throws: AttnError.self) { try TensorFile.read(TensorSource(path: url.path), as: Float.self) }
        #expect(try Npy.readNative(dir.appendingPathComponent("missing.npy").path, as: Float.self) == nil)
    }
}
