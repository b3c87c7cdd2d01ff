import ArgumentParser
import AttnCertified
import AttnCore
import AttnKernels
import Foundation

/// `attnbound bench verify`: the whole tiered `verify` (read the files, certify)
/// against the fast Float64 exact kernel on the same tensors, in the same run.
struct BenchVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Tiered verify of a float32 candidate vs the fast Float64 kernel (n = 4096, d = 128, 8 heads).")

    @OptionGroup var options: BenchOptions

    @Option(help: "Sequence length n (n_q = n_k = n).") var n: Int = 4096
    @Option(help: "Head dimension d.") var d: Int = 128
    @Option(help: "Heads.") var heads: Int = 8

    func validate() throws {
        guard (1...65536).contains(n), (1...1024).contains(d), (1...256).contains(heads) else {
            throw ValidationError("--n must be in 1...65536, --d in 1...1024, --heads in 1...256")
        }
    }

    func run() throws {
        options.printBLAS()
        var rng = Xoshiro256StarStar(seed: 42)
        func t() -> Tensor<Float> { InputDistribution.gaussian.sample(heads: heads, rows: n, cols: d, bound: 1, using: &rng) }
        let (q, k, v) = (t(), t(), t())
        let candidate = try FastAttention.compute(q: q, k: k, v: v, scale: .standard)          // a float32 SDPA
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attnbound-bench-verify-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = { (name: String) in dir.appendingPathComponent("\(name).npy").path }
        for (name, x) in [("q", q), ("k", k), ("v", v), ("o", candidate)] { try Npy.write(x, to: path(name)) }
        let (q64, k64, v64) = (q.converted(to: Double.self), k.converted(to: Double.self), v.converted(to: Double.self))
        var yard: [Double] = [], whole: [Double] = [], report: TieredVerificationReport?
        for _ in 0..<options.runs {
            yard.append(try Timing.seconds { _ = try FastAttention.compute(q: q64, k: k64, v: v64, scale: .standard) })
            whole.append(try Timing.seconds {
                let p = try AttentionTensors<Double>(q: path("q"), k: path("k"), v: path("v"))
                let c: Tensor<Double> = try Npy.read(path("o"))
                report = try TieredVerification.run(q: p.q, k: p.k, v: p.v, candidate: c, scale: .standard, causal: false,
                                                    options: VerifyOptions(atol: 1e-5))
            })
        }
        let (ty, tw) = (Timing.median(of: yard), Timing.median(of: whole))
        let r = report!
        if options.json {
            print(JSONValue.object([
                ("n", .int(n)), ("d", .int(d)), ("heads", .int(heads)), ("blas", BLASInfo.current.json),
                ("fast_float64_seconds", .double(ty)), ("verify_seconds", .double(tw)), ("ratio", .double(tw / ty)),
                ("max_error_bound", .double(r.maxErrorBound)), ("rows_float", .int(r.rowsFloat)), ("rows_exact", .int(r.rowsExact)),
            ]).serialized())
        } else {
            print("n \(n), d \(d), \(heads) heads, float32 candidate from the fast float32 kernel; medians of \(options.runs) interleaved runs")
            print(String(format: "fast Float64 kernel %.3f s, whole verify (read + certify) %.3f s: ratio %.2f× (target ≤ 5×)", ty, tw, tw / ty))
            print("certified max error \(formatBound(r.maxErrorBound)); rows: \(r.rowsFloat) float engine, \(r.rowsExact) GMP/MPFR, \(r.rowsUndecided) undecided")
        }
    }
}
