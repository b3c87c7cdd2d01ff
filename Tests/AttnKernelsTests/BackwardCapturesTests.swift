import AttnCertified
import AttnCore
import AttnKernels
import Foundation
import Testing

/// Real gradients: the float16 dQ, dK, dV of five GPU backends (../shared/gpu-captures, skipped
/// when absent) and of our fused kernel, certified against the exact gradients of the same inputs.
@Suite("Backward on GPU captures (float16, n = 1024, d = 128)")
struct BackwardCapturesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let capture = root.deletingLastPathComponent().appendingPathComponent(
        "shared/gpu-captures/fp16_n1024_backward_full")
    static let slice = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fp16_n1024_backward_slice")
    static var haveCapture: Bool {
        FileManager.default.fileExists(atPath: capture.appendingPathComponent("do.npy").path)
    }
    static let backends = ["flash", "efficient", "cudnn", "math", "naive"]

    static func read(_ folder: URL, _ name: String) throws -> Tensor<Double> {
        try Npy.read(folder.appendingPathComponent(name + ".npy").path)
    }

    @Test(
        "every backend's dQ, dK, dV is certified: bounds near the GPU's float64 figures (1.5e-4 … 1.3e-3)",
        .enabled(if: haveCapture))
    func gpuBackends() throws {
        let (q, k, v, dO) = try (
            Self.read(Self.capture, "q"), Self.read(Self.capture, "k"), Self.read(Self.capture, "v"),
            Self.read(Self.capture, "do")
        )
        var options = VerifyOptions(atol: 1e-2)
        options.engine = .float
        var lines: [String] = []
        for b in Self.backends {
            var cands: [GradientName: Tensor<Double>] = [:]
            for name in GradientName.allCases { cands[name] = try Self.read(Self.capture, "\(name.rawValue)_\(b)") }
            let r = try GradientVerification.run(
                q: q, k: k, v: v, dO: dO, candidates: cands, scale: .standard, scoreModel: .plain, options: options)
            for name in GradientName.allCases {
                let x = r[name]!
                #expect(x.undecided == 0 && x.rowsFloat == 1024, "\(b) \(name): \(x.undecided) undecided")
                // Production kernels sit at the float16 rounding of gradients of size ≈ 0.1–1: 10⁻⁵ … 10⁻².
                #expect(x.maxErrorBound > 1e-5 && x.maxErrorBound < 1e-2, "\(b) \(name): \(x.maxErrorBound)")
                lines.append("\(b) \(name.rawValue) \(x.maxErrorBound) at row \(x.row) col \(x.col)")
            }
        }
        print("certified max |gradient − truth| of the GPU backends:\n" + lines.joined(separator: "\n"))
    }

    @Test(
        "on sampled dQ rows of the capture the float engine's bound is within 1% of GMP/MPFR's",
        .enabled(if: haveCapture))
    func enginesAgreeOnCapture() throws {
        let (q, k, v, dO) = try (
            Self.read(Self.capture, "q"), Self.read(Self.capture, "k"), Self.read(Self.capture, "v"),
            Self.read(Self.capture, "do")
        )
        let dq = try Self.read(Self.capture, "dq_flash")
        let shape = try AttentionShape(q: q, k: k, v: v)
        let float = try FloatGradientEngine.enclose(
            q: q, k: k, v: v, dO: dO, shape: shape, scale: .standard, mask: GradientMask(.plain, shape), threads: nil)
        let rows = [0, 333, 1023].map { MPFRGradientEngine.Row(head: 0, row: $0) }
        let exact = try MPFRGradientEngine.enclose(
            q: q, k: k, v: v, dO: dO, shape: shape, scale: .standard, mask: GradientMask(.plain, shape), precision: 256,
            rows: [.dq: rows])
        var worst = 0.0
        for (r, e) in zip(rows, exact[.dq]!) {
            for c in 0..<128 {
                let x = dq[0, r.row, c], i = dq.offset(head: 0, row: r.row) + c
                let fb = max(x - float.lo[.dq]!.storage[i], float.hi[.dq]!.storage[i] - x)
                let gb = max(x - e.lo[c], e.hi[c] - x)
                #expect(gb <= fb)
                if gb > 0 { worst = max(worst, fb / gb - 1) }
            }
        }
        #expect(worst < 0.01, "float vs GMP bounds differ by \(worst)")
        print("float engine vs GMP/MPFR on sampled dQ rows: max relative difference of the bounds \(worst)")
    }

    @Test("the committed slice: fused Float32 gradients certified within their a-priori bound; the engines agree")
    func committedSlice() throws {
        let (q, k, v, dO) = try (
            Self.read(Self.slice, "q"), Self.read(Self.slice, "k"), Self.read(Self.slice, "v"),
            Self.read(Self.slice, "do")
        )
        let problem = try AttentionTensors(
            q: q.converted(to: Float.self), k: k.converted(to: Float.self), v: v.converted(to: Float.self))
        let g = try FusedBackward.compute(problem, dO: dO.converted(to: Float.self), scale: .standard)
        let bound = BackwardErrorBound.fused(problem, dO: dO.converted(to: Float.self), scale: .standard)
        let cands: [GradientName: Tensor<Double>] = [
            .dq: g.dq.converted(), .dk: g.dk.converted(), .dv: g.dv.converted(),
        ]
        var options = VerifyOptions(atol: 1)
        options.engine = .float
        let float = try GradientVerification.run(
            q: q, k: k, v: v, dO: dO, candidates: cands, scale: .standard, scoreModel: .plain, options: options)
        options.engine = .exact
        let exact = try GradientVerification.run(
            q: q, k: k, v: v, dO: dO, candidates: cands, scale: .standard, scoreModel: .plain, options: options)
        for (name, b) in [(GradientName.dq, bound.dq), (.dk, bound.dk), (.dv, bound.dv)] {
            #expect(
                exact[name]!.maxErrorBound <= b.maxBound,
                "\(name): certified \(exact[name]!.maxErrorBound) > a-priori \(b.maxBound)")
            let (f, e) = (float[name]!.maxErrorBound, exact[name]!.maxErrorBound)
            #expect(e <= f && f <= 1.01 * e, "\(name): float \(f) vs GMP \(e)")
        }
    }
}
