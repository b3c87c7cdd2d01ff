import AttnCore
import Foundation

/// `bench exact`: the fused kernel's rate beside OpenBLAS sgemm 2048³, measured
/// interleaved in the same process (so load changes on a shared machine hit
/// both alike), medians of `runs`.
public enum ExactBenchmark {
    public struct Point: Sendable {
        public let n: Int, queries: Int, d: Int, double: Bool
        /// The share of the n_q·n_k scores the score model leaves visible (1 without a mask, about ½ causal).
        public let visibleFraction: Double
        /// Median seconds of one `FastAttention.compute` (one head, n_q = `queries`, n_k = n, d_v = d), or of
        /// one `FusedBackward.compute` (its own forward statistics included) with `backward`.
        public let seconds: Double
        public var backward = false
        /// GFLOP/s counting 4·d per visible score, 4·n_q·n_k·d·`visibleFraction` (about half when causal, as
        /// AttnKit.docc/Conventions.md says), times 2.5 for the backward pass (FlashAttention's convention: its
        /// five n²d products against the forward's two).
        public var gflops: Double {
            4 * Double(queries) * Double(n) * Double(d) * (backward ? 2.5 : 1) * visibleFraction / seconds / 1e9
        }
        /// GB/s of K and V read (2·n·d elements) per second: the decode figure, beside the copy bandwidth.
        public var gbs: Double { 2 * Double(n) * Double(d) * (double ? 8 : 4) / seconds / 1e9 }
    }

    /// Decode (n_q ≤ 16): the copy bandwidth is measured beside the kernel, interleaved.
    public static func isDecode(queries: Int?) -> Bool { (queries ?? .max) <= 16 }

    /// - Parameters:
    ///   - queries: n_q (default n_q = n_k = n; 1 for decode).
    ///   - inputsOut: a folder to write each case's Q, K, V as `q_n{n}_d{d}.npy`, … (for peer benchmarks on identical inputs).
    public static func run(
        sizes: [Int], headDims: [Int], queries: Int? = nil, scoreModel: ScoreModel = .plain, double: Bool, threads: Int,
        runs: Int, tiles: TileSizes = .default, isa: KernelISA = .auto,
        inputsOut: String? = nil, backward: Bool = false
    ) throws -> (sgemm: Double, copy: Double?, points: [Point]) {
        let gemm = GemmBenchmark.Problem()
        _ = gemm.rate(threads: threads)
        let copy = isDecode(queries: queries) ? CopyBandwidth() : nil
        _ = copy?.rate(threads: threads)
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
                                problem, dO: dO, scale: .standard, scoreModel: scoreModel, threads: threads)
                        }
                    }
                    return {
                        _ = try FastAttention.compute(
                            q: q, k: k, v: v, scale: .standard, scoreModel: scoreModel, tiles: tiles,
                            threads: threads, isa: isa)
                    }
                }
                cases.append((n, d, double ? try make(Double.self) : try make(Float.self)))
            }
        }
        for c in cases { try c.run() }  // warm-up
        var sgemm: [Double] = [], copies: [Double] = []
        var times = [[Double]](repeating: [], count: cases.count)
        for _ in 0..<runs {
            sgemm.append(gemm.rate(threads: threads))
            if let copy { copies.append(copy.rate(threads: threads)) }
            // OpenBLAS's idle workers spin for a while after a call; let them
            // sleep before timing our kernel, or they steal its cores.
            usleep(300_000)
            for (i, c) in cases.enumerated() { times[i].append(try Timing.seconds { try c.run() }) }
        }
        let points = cases.enumerated().map { i, c in
            Point(
                n: c.n, queries: min(queries ?? c.n, c.n), d: c.d, double: double,
                visibleFraction: visibleFraction(scoreModel.mask, queries: min(queries ?? c.n, c.n), keys: c.n),
                seconds: Timing.median(of: times[i]), backward: backward)
        }
        return (Timing.median(of: sgemm), copy == nil ? nil : Timing.median(of: copies), points)
    }
}

extension ExactBenchmark {
    /// The share of the n_q·n_k scores of batch entry 0, head 0 (the benchmark's one head) that `mask`
    /// leaves visible: from the window's ranges, and key by key where an explicit mask hides some.
    public static func visibleFraction(_ mask: AttentionMask, queries nq: Int, keys nk: Int) -> Double {
        guard nq > 0, nk > 0 else { return 0 }
        var visible = 0
        for i in 0..<nq {
            let keys = mask.visibleKeys(row: i, queries: nq, keys: nk)
            visible +=
                mask.explicit == nil
                ? keys.count
                : keys.reduce(0) {
                    $0 + (mask.isVisible(batch: 0, head: 0, row: i, col: $1, queries: nq, keys: nk) ? 1 : 0)
                }
        }
        return Double(visible) / (Double(nq) * Double(nk))
    }
}
