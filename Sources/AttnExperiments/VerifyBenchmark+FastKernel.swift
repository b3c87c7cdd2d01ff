import AttnCertified
import AttnCore
import AttnKernels

extension VerifyBenchmark {
    /// `bench verify` as one call: the tiered verify of a float32 candidate from the fast kernel
    /// (as a float32 SDPA would give it) against the fast Float64 kernel on the same tensors, timed
    /// interleaved in the same run. The JSON adds the BLAS record.
    /// - Throws: `AttnError.usage` naming `n`, `d` or `heads` out of range.
    public static func fastKernel(n: Int, d: Int, heads: Int, runs: Int) throws -> RunReport {
        guard (1...65536).contains(n) else { throw AttnError.usage(.n, "must be in 1...65536") }
        guard (1...1024).contains(d) else { throw AttnError.usage(.d, "must be in 1...1024") }
        guard (1...256).contains(heads) else { throw AttnError.usage(.heads, "must be in 1...256") }
        guard (1...1000).contains(runs) else { throw AttnError.usage(.runs, "must be in 1...1000") }
        let r = try run(
            n: n, d: d, heads: heads, runs: runs,
            candidate: { q, k, v in try FastAttention.compute(q: q, k: k, v: v, scale: .standard) },
            yardstick: { q, k, v in _ = try FastAttention.compute(q: q, k: k, v: v, scale: .standard) })
        return RunReport(
            command: "bench verify", text: r.summary, json: .object(r.jsonFields + [("blas", BLASInfo.current.json)]))
    }
}
