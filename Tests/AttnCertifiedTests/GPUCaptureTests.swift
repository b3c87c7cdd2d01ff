import AttnCertified
import AttnCore
import Foundation
import Testing

/// Real outputs of production GPU kernels (H200; ../shared/gpu-captures/README.md) certified by `verify`:
/// the plain and causal forward outputs of five backends, and the row log-sum-exp that flash,
/// efficient and cuDNN return, against the LSE their inputs define. Skipped when the folder is absent;
/// `committedCausalSlice` runs the same check on a 16-row slice kept in the repository.
@Suite("GPU captures: real kernel outputs and LSEs certified")
struct GPUCaptureTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let captures = repo.deletingLastPathComponent().appendingPathComponent("shared/gpu-captures")
    static let present = FileManager.default.fileExists(atPath: captures.appendingPathComponent("README.md").path)
    static let slice = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/gpu-causal-rows0-15")

    /// The GPU's float64 error figure of `backend` over all heads (case.json), if recorded.
    static func figure(_ folder: URL, _ backend: String) -> Double? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("case.json")),
            let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let f = o["gpu_float64_max_abs_error_all_heads"] as? [String: Double]
        else { return nil }
        return f[backend]
    }

    /// Certifies each `o_<backend>.npy` of `folder`; the certified bound never falls below the truth,
    /// so it can exceed this head's error only by the float engine's e (≈ 1e-13); the head's error is at
    /// most the all-heads figure.
    static func certifyOutputs(_ folder: URL, causal: Bool, backends: [String]) throws {
        for b in backends {
            var r = VerifyRequest(
                q: folder.appendingPathComponent("q.npy").path, k: folder.appendingPathComponent("k.npy").path,
                v: folder.appendingPathComponent("v.npy").path,
                candidate: folder.appendingPathComponent("o_\(b).npy").path)
            r.scoreModel = causal ? .causal() : .plain
            r.tolerance = 0.01
            let report = try r.run()
            let json = report.json.serialized()
            #expect(report.failure == nil, "\(folder.lastPathComponent) \(b): \(report.text)")
            #expect(json.contains("\"undecided_entries\":0") && json.contains("\"rows_undecided\":0"), "\(b)")
            #expect(json.contains("\"masked_rows\":0"))
            if let f = figure(folder, b) {
                let bound = try TieredVerificationReport(json: json).maxErrorBound
                #expect(bound > 0 && bound <= f + 1e-9, "\(b): certified \(bound) vs the GPU's all-heads \(f)")
            }
        }
    }

    @Test(.enabled(if: present)) func plainOutputs() throws {
        try Self.certifyOutputs(
            Self.captures.appendingPathComponent("fp16_n2048_normal_full"), causal: false,
            backends: ["flash", "efficient", "cudnn", "flex", "naive"])
    }

    @Test(.enabled(if: present)) func causalOutputs() throws {
        try Self.certifyOutputs(
            Self.captures.appendingPathComponent("fp16_n2048_normal_causal"), causal: true,
            backends: ["flash", "efficient", "cudnn", "flex", "naive"])
    }

    /// flash and efficient write [1, 1, n], cuDNN [1, 1, n, 1]: both shapes are read; each LSE is within
    /// 2e-6 of the truth (float32 at ≈ 7.4 has an ulp of 4.8e-7), in base e. Read as base 2 the same
    /// file certifiably fails (flashinfer #2113's mix-up).
    @Test(.enabled(if: present)) func logSumExps() throws {
        let folder = Self.captures.appendingPathComponent("fp16_n1024_backward_full")
        for b in ["flash", "efficient", "cudnn"] {
            var r = VerifyRequest(
                q: folder.appendingPathComponent("q.npy").path, k: folder.appendingPathComponent("k.npy").path,
                v: folder.appendingPathComponent("v.npy").path,
                candidate: folder.appendingPathComponent("o_\(b).npy").path)
            (r.tolerance, r.lseCandidate) = (0.01, folder.appendingPathComponent("lse_\(b).npy").path)
            let report = try r.run()
            let parsed = try TieredVerificationReport(json: report.json.serialized())
            let lse = try #require(parsed.lse)
            #expect(report.failure == nil && lse.passed, "\(b): \(report.text)")
            #expect(lse.entries == 1024 && lse.maxErrorBound > 0 && lse.maxErrorBound < 2e-6, "\(b): \(lse)")
            r.lseBase = .two
            let wrongBase = try TieredVerificationReport(json: try r.run().json.serialized())
            #expect(wrongBase.lse?.failing == 1024)
        }
    }

    @Test func committedCausalSlice() throws {
        try Self.certifyOutputs(Self.slice, causal: true, backends: ["flash", "efficient", "cudnn", "flex", "naive"])
    }
}
