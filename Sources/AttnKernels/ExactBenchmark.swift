import AttnCore
import Foundation

/// `bench exact`: the fused kernel's rate beside OpenBLAS sgemm 2048³, measured
/// interleaved in the same process (so load changes on a shared machine hit
/// both alike), medians of `runs`.
public enum ExactBenchmark {
    public struct Point: Sendable {
        public let n: Int, queries: Int, d: Int, causal: Bool, double: Bool
        /// Median seconds of one `FastAttention.compute` (one head, n_q = `queries`, n_k = n, d_v = d), or of
        /// one `FusedBackward.compute` (its own forward statistics included) with `backward`.
        public let seconds: Double
        public var backward = false
        /// GFLOP/s counting 4·n_q·n_k·d (halved when causal, as AttnKit.docc/Conventions.md says), times 2.5
        /// for the backward pass (FlashAttention's convention: its five n²d products against the forward's two).
        public var gflops: Double {
            4 * Double(queries) * Double(n) * Double(d) * (backward ? 2.5 : 1) / (causal ? 2 : 1) / seconds / 1e9
        }
    }

    /// - Parameters:
    ///   - queries: n_q (default n_q = n_k = n; 1 for decode).
    ///   - inputsOut: a folder to write each case's Q, K, V as `q_n{n}_d{d}.npy`, … (for peer benchmarks on identical inputs).
    public static func run(
        sizes: [Int], headDims: [Int], queries: Int? = nil, causal: Bool, double: Bool, threads: Int,
        runs: Int, tiles: TileSizes = .default, isa: KernelISA = .auto,
        inputsOut: String? = nil, backward: Bool = false
    ) throws -> (sgemm: Double, points: [Point]) {
        let gemm = GemmBenchmark.Problem()
        _ = gemm.rate(threads: threads)
        var cases: [(n: Int, d: Int, run: () throws -> Void)] = []
        for d in headDims {
            for n in sizes {
                var rng = Xoshiro256StarStar(seed: 42)
                let nq = min(queries ?? n, n)
                func make<T: KernelScalar>(_: T.Type) throws -> () throws -> Void {
                    let q: Tensor<T> = InputDistribution.uniform.sample(rows: nq, cols: d, bound: 1, using: &rng)
                    let k: Tensor<T> = InputDistribution.uniform.sample(rows: n, cols: d, bound: 1, using: &rng)
                    let v: Tensor<T> = InputDistribution.uniform.sample(rows: n, cols: d, bound: 1, using: &rng)
                    let dO: Tensor<T> = InputDistribution.uniform.sample(rows: nq, cols: d, bound: 1, using: &rng)
                    if let dir = inputsOut {
                        for (name, t) in [("q", q), ("k", k), ("v", v)] + (backward ? [("do", dO)] : []) {
                            try Npy.write(t, to: "\(dir)/\(name)_n\(n)_q\(nq)_d\(d).npy")
                        }
                    }
                    if backward {
                        let problem = try AttentionTensors(q: q, k: k, v: v)
                        return {
                            _ = try FusedBackward.compute(
                                problem, dO: dO, scale: .standard, scoreModel: causal ? .causal() : .plain,
                                threads: threads)
                        }
                    }
                    return {
                        _ = try FastAttention.compute(
                            q: q, k: k, v: v, scale: .standard, scoreModel: causal ? .causal() : .plain, tiles: tiles,
                            threads: threads, isa: isa)
                    }
                }
                cases.append((n, d, double ? try make(Double.self) : try make(Float.self)))
            }
        }
        for c in cases { try c.run() }  // warm-up
        var sgemm: [Double] = []
        var times = [[Double]](repeating: [], count: cases.count)
        for _ in 0..<runs {
            sgemm.append(gemm.rate(threads: threads))
            // OpenBLAS's idle workers spin for a while after a call; let them
            // sleep before timing our kernel, or they steal its cores.
            usleep(300_000)
            for (i, c) in cases.enumerated() { times[i].append(try Timing.seconds { try c.run() }) }
        }
        let points = cases.enumerated().map { i, c in
            Point(
                n: c.n, queries: min(queries ?? c.n, c.n), d: c.d, causal: causal, double: double,
                seconds: Timing.median(of: times[i]), backward: backward)
        }
        return (Timing.median(of: sgemm), points)
    }
}
