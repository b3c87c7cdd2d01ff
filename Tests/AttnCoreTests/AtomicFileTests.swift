import AttnCore
import Foundation
import Testing

/// AtomicFile: the target holds exactly the new bytes, or is untouched, and no temp file is left.
struct AtomicFileTests {
    func freshDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func writesAndReplacesWholeFiles() throws {
        let dir = try freshDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("out.csv")
        try AtomicFile.write("a,b\n1,2\n", to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "a,b\n1,2\n")
        let bytes = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0) })
        try AtomicFile.write(bytes, to: url)
        #expect(try Data(contentsOf: url) == bytes)
        try AtomicFile.write(Data(), to: url)
        #expect(try Data(contentsOf: url).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.csv"])
    }

    /// Several byte ranges make one file, in order (a header and a tensor's storage); empty ranges add nothing.
    @Test func writesPartsInOrder() throws {
        let dir = try freshDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("parts.bin")
        let a = Data("head".utf8), b = Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 * 7) }), c = Data()
        try a.withUnsafeBytes { ra in
            try b.withUnsafeBytes { rb in try c.withUnsafeBytes { rc in try AtomicFile.write([ra, rc, rb], to: url) } }
        }
        #expect(try Data(contentsOf: url) == a + b)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["parts.bin"])
    }

    /// A missing folder, and a target that is a non-empty folder (the rename fails), both throw;
    /// nothing is created or changed and no temp file stays behind.
    @Test func failuresLeaveEverythingAsItWas() throws {
        let dir = try freshDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("nope/out.csv")
        #expect(throws: AttnError.self) { try AtomicFile.write("x", to: missing) }
        #expect(!FileManager.default.fileExists(atPath: missing.path))

        let target = dir.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try AtomicFile.write("keep", to: target.appendingPathComponent("inside"))
        #expect(throws: AttnError.self) { try AtomicFile.write("x", to: target) }
        #expect(try String(contentsOf: target.appendingPathComponent("inside"), encoding: .utf8) == "keep")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["taken"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path) == ["inside"])
    }
}
