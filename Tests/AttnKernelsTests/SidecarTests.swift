import AttnCore
import AttnKernels
import Foundation
import Testing

/// The one CSV + sidecar writer and its schema (`Sidecar`).
@Suite("Sidecar")
struct SidecarTests {
    @Test("writes the CSV and a sidecar with the common keys in order, the seed as a string, the machine with BLAS")
    func schema() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sidecar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("run.csv")
        let sidecar = Sidecar(
            command: "lite", parameters: [("n", .int(4)), ("label", "a,b")], seed: 18_446_744_073_709_551_615,
            argv: ["lite", "--n", "4"], extra: [("summary", .object([("rows", .int(1))]))])
        let url = try sidecar.write(header: ["step", "error"], rows: [["0", "a,b"]], to: csv)
        #expect(url.lastPathComponent == "run.json")
        #expect(try String(contentsOf: csv, encoding: .utf8) == "step,error\n0,\"a,b\"\n")
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.hasSuffix("}\n") && text.filter { $0 == "\n" }.count == 1)
        let keys = ["tool", "version", "argv", "csv", "parameters", "seed", "started_utc", "summary", "machine"]
        let positions = keys.map { text.range(of: "\"\($0)\":")?.lowerBound }
        #expect(
            positions.allSatisfy { $0 != nil } && positions.map { $0! } == positions.map { $0! }.sorted(), "\(text)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(obj["tool"] as? String == "attnbound lite")
        #expect(obj["version"] as? String == AttnVersion.current)
        #expect(obj["csv"] as? String == "run.csv")
        #expect(obj["seed"] as? String == "18446744073709551615")  // a string: JSON numbers lose 64-bit seeds
        let blas = try #require((obj["machine"] as? [String: Any])?["blas"] as? [String: Any])
        for key in ["library", "config", "core"] { #expect(blas[key] is String, "machine.blas.\(key)") }
    }

    @Test("no random input: the seed is null")
    func nullSeed() {
        let j = Sidecar(command: "regime", parameters: .object([]), seed: nil).json(csv: "r.csv").serialized()
        #expect(j.contains("\"seed\":null"))
    }
}
