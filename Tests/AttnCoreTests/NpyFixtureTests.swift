import AttnCore
import Foundation
import Testing

/// Known answers for the .npy writer: the bytes NumPy's `np.save` writes, kept as fixtures made by
/// `scripts/make-npy-fixtures.py`. Element i of every fixture is (i − 3)/4 (exact in both precisions).
@Suite struct NpyFixtureTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func values(_ n: Int) -> [Double] { (0..<n).map { (Double($0) - 3) / 4 } }

    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: folder.appendingPathComponent(name + ".npy"))
    }

    @Test func float32MatrixIsByteForByteNumPy() throws {
        let t = Tensor<Float>(rows: 2, cols: 3, storage: Self.values(6).map(Float.init))
        let bytes = try Self.fixture("f4_2x3")
        #expect(Npy.encode(t) == bytes)
        #expect(try Npy.decode(bytes, as: Float.self) == t)
    }

    @Test func float64VectorIsByteForByteNumPy() throws {
        let t = Tensor<Double>(rows: 1, cols: 5, storage: Self.values(5), logicalRank: 1)
        let bytes = try Self.fixture("f8_5")
        #expect(Npy.encode(t) == bytes)
        #expect(try Npy.decode(bytes, as: Double.self) == t)
    }

    @Test func float64ThreeDimensionalIsByteForByteNumPy() throws {
        let t = Tensor<Double>(heads: 2, rows: 2, cols: 3, storage: Self.values(12))
        let bytes = try Self.fixture("f8_2x2x3")
        #expect(Npy.encode(t) == bytes)
        #expect(try Npy.decode(bytes, as: Double.self) == t)
    }

    @Test func emptyFloat32MatrixIsByteForByteNumPy() throws {
        let t = Tensor<Float>(rows: 0, cols: 4, storage: [])
        let bytes = try Self.fixture("f4_0x4")
        #expect(Npy.encode(t) == bytes)
        #expect(try Npy.decode(bytes, as: Float.self).shape == [0, 4])
    }
}
