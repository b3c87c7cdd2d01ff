import AttnCore
import Foundation
import Testing

/// `verify` on tensor files as kernels write them (safetensors, .npz, fp8 with descales) and the
/// kernel accuracy report, end to end through the built binary.
@Suite struct KernelReportCLITests {
    /// q, k, v (float16, [1, 2, 16, 8]) and two candidates: the certified midpoint rounded to
    /// float16 (`o_rn`) and the same with one entry two ulps off (`o_off`), in `run.safetensors`.
    static func files(in dir: URL) throws {
        let (q, k, v): (Tensor<Double>, Tensor<Double>, Tensor<Double>) = InputDistribution.uniform.attentionInputs(
            heads: 2, queries: 16, keys: 16, d: 8, seed: 3)
        func half(_ t: Tensor<Double>) -> Tensor<Double> {
            Tensor(
                heads: 2, rows: t.rows, cols: t.cols, storage: t.storage.map { Double(Float16($0)) }, logicalRank: 4,
                batch: 1, headsPerBatch: 2)
        }
        let (hq, hk, hv) = (half(q), half(k), half(v))
        let c = try CLIRunner.run(["attention", "--help"])
        #expect(c.status == 0)
        // The candidate from the float64 reference kernel, rounded to float16 by the writer.
        try Npy.write(hq, to: dir.appendingPathComponent("q.npy").path)
        try Npy.write(hk, to: dir.appendingPathComponent("k.npy").path)
        try Npy.write(hv, to: dir.appendingPathComponent("v.npy").path)
        let r = try CLIRunner.run(
            [
                "attention", "--q", "q.npy", "--k", "k.npy", "--v", "v.npy", "--kernel", "reference", "--precision",
                "float64", "--out", "o.npy",
            ], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let o: Tensor<Double> = try Npy.read(dir.appendingPathComponent("o.npy").path)
        var off = o.storage.map { Double(Float16($0)) }
        // Two ulps off at the largest entry: the error is then ≥ 1.5 ulps there, above every floor.
        let i = off.indices.max { abs(off[$0]) < abs(off[$1]) }!
        off[i] = Double(Float16(off[i]).nextUp.nextUp)
        let offT = Tensor(heads: 2, rows: 16, cols: 8, storage: off, logicalRank: 4, batch: 1, headsPerBatch: 2)
        try Safetensors.encode([
            ("query", hq, .float16), ("k", hk, .float16), ("v", hv, .float16), ("o_rn", o, .float16),
            ("o_off", offT, .float16),
        ]).write(to: dir.appendingPathComponent("run.safetensors"))
    }

    @Test func reportJSONCSVSidecarAndSVG() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.files(in: dir)
        let args = ["verify", "--tensors", "run.safetensors", "--names", "q=query", "--report"]
        let r = try CLIRunner.run(args + ["--json", "--out", "report.csv"], cwd: dir)
        #expect(r.status == 1, "default tolerance 1e-6 fails float16: \(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let cands = obj["candidates"] as! [[String: Any]]
        #expect(cands.map { $0["label"] as? String } == ["off", "rn"])
        for c in cands {
            for key in [
                "label", "max_error_bound", "rounding_floor", "floor_ratio", "correctly_rounded", "faithful",
                "undecided",
            ] {
                #expect(c[key] != nil, "\(key)")
            }
            #expect((c["rounding_floor"] as? [Double])?.count == 2 && (c["floor_ratio"] as? [Double])?.count == 2)
        }
        #expect((cands[1]["correctly_rounded"] as! Double) + (cands[1]["undecided"] as! Double) == 1)
        #expect((cands[0]["floor_ratio"] as! [Double])[0] > 1)
        #expect(obj["max_error_bound"] as? Double == cands[0]["max_error_bound"] as? Double)  // the worst one
        for file in ["report.csv", "report.json", "report.svg"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), "\(file)")
        }
        let csv = try String(contentsOf: dir.appendingPathComponent("report.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("label,source,type,entries,max_error_bound") && csv.split(separator: "\n").count == 3)
        // Text: the table, and the floor-ratio criterion instead of the tolerance.
        let text = try CLIRunner.run(
            args + ["--max-floor-ratio", "1.5", "--candidate", "run.safetensors:o_rn"], cwd: dir)
        #expect(text.status == 0, "\(text.stdout) \(text.stderr)")
        #expect(text.stdout.contains("floor max|RN(y) − y|") && text.stdout.contains("max floor ratio 1.5: PASS"))
        let hint = try CLIRunner.run(["verify", "--tensors", "run.safetensors", "--names", "q=query"], cwd: dir)
        #expect(hint.status == 1 && hint.stdout.contains("--max-floor-ratio"))
        let both = try CLIRunner.run(args + ["--max-floor-ratio", "1.5"], cwd: dir)
        #expect(both.status == 1 && both.stderr.contains("off"))
    }

    /// Each malformed file is one line on stderr, exit 2, and nothing is written.
    @Test func malformedTensorFilesExit2AndWriteNothing() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.files(in: dir)
        let good = try Data(contentsOf: dir.appendingPathComponent("run.safetensors"))
        var cases: [(String, Data)] = []
        var long = good
        long.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
        cases.append(("length", long))
        var json = good
        json[9] = UInt8(ascii: "[")
        cases.append(("json", json))
        cases.append(("truncated", good.prefix(good.count - 10)))
        for (name, data) in cases {
            try data.write(to: dir.appendingPathComponent("bad.safetensors"))
            let r = try CLIRunner.run(
                ["verify", "--tensors", "bad.safetensors", "--names", "q=query", "--report", "--out", "r.csv"], cwd: dir
            )
            #expect(r.status == 2, "\(name): \(r.stderr)")
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1, "\(name)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("r.csv").path))
        }
        let missing = try CLIRunner.run(["verify", "--tensors", "run.safetensors"], cwd: dir)
        #expect(missing.status == 2 && missing.stderr.contains("query"))
        let names = try CLIRunner.run(["verify", "--tensors", "run.safetensors", "--names", "x=query"], cwd: dir)
        #expect(names.status == 2 && names.stderr.contains("--names"))
        let type = try CLIRunner.run(
            ["verify", "--tensors", "run.safetensors", "--names", "q=query", "--candidate-type", "int8"], cwd: dir)
        #expect(type.status == 2)
    }

    /// fp8 e4m3 inputs with descales: the truth is attention on value × scale; a bad scale is exit 2.
    @Test func fp8InputsWithDescales() throws {
        let dir = try CLIRunner.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // q, k, v [4, 2] of e4m3 codes, laid out by hand.
        let codes: [UInt8] = [0x38, 0x40, 0xb8, 0x30, 0x3c, 0x31, 0x44, 0xbc]
        var header = "{"
        for (i, n) in ["q", "k", "v"].enumerated() {
            header += "\"\(n)\":{\"dtype\":\"F8_E4M3\",\"shape\":[4,2],\"data_offsets\":[\(8 * i),\(8 * i + 8)]},"
        }
        header.removeLast()
        header += "}"
        var file = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) }
        file += Data(header.utf8) + Data(codes + codes.reversed() + codes)
        try file.write(to: dir.appendingPathComponent("fp8.safetensors"))
        let deq = { (codes: [UInt8], s: Double) in
            Tensor<Double>(rows: 4, cols: 2, storage: codes.map { NarrowFloat.e4m3($0) * s })
        }
        try Npy.write(deq(codes, 0.5), to: dir.appendingPathComponent("q.npy").path)
        try Npy.write(deq(codes.reversed(), 2), to: dir.appendingPathComponent("k.npy").path)
        try Npy.write(deq(codes, 0.25), to: dir.appendingPathComponent("v.npy").path)
        let o = try CLIRunner.run(
            [
                "attention", "--q", "q.npy", "--k", "k.npy", "--v", "v.npy", "--kernel", "reference", "--precision",
                "float64", "--out", "o.npy",
            ], cwd: dir)
        #expect(o.status == 0)
        let fp8 = ["verify", "--tensors", "fp8.safetensors", "--candidate", "o.npy", "--tolerance", "1e-12"]
        let ok = try CLIRunner.run(fp8 + ["--q-descale", "0.5", "--k-descale", "2", "--v-descale", "0.25"], cwd: dir)
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        let wrong = try CLIRunner.run(fp8 + ["--q-descale", "0.5", "--k-descale", "2"], cwd: dir)
        #expect(wrong.status == 1)
        for bad in ["0", "-1", "nan", "inf"] {
            let r = try CLIRunner.run(fp8 + ["--v-descale", bad], cwd: dir)
            #expect(r.status == 2 && r.stderr.contains("--v-descale"), "\(bad): \(r.stderr)")
        }
    }
}
