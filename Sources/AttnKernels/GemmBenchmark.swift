import AttnCore

/// The yardstick for speed figures: OpenBLAS sgemm on square matrices.
public enum GemmBenchmark {
    /// An n × n Float32 sgemm problem whose `run()` times one product.
    public final class Problem {
        public let n: Int
        let a: [Float], b: [Float]
        var c: [Float]
        public init(n: Int = 2048) {
            var rng = Xoshiro256StarStar(seed: 1)
            self.n = n
            a = (0..<n * n).map { _ in Float(rng.uniform(-1, 1)) }
            b = (0..<n * n).map { _ in Float(rng.uniform(-1, 1)) }
            c = [Float](repeating: 0, count: n * n)
        }
        /// GFLOP/s (2·n³ flops) of one C = A·B with `threads` BLAS threads.
        public func rate(threads: Int) -> Double {
            let n = self.n
            let t = BLASThreads.with(threads: threads) {
                Timing.seconds {
                    c.withUnsafeMutableBufferPointer { cb in
                        Float.gemm(
                            transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: a, lda: n, b: b, ldb: n,
                            beta: 0, c: cb.baseAddress!, ldc: n)
                    }
                }
            }
            return 2 * Double(n) * Double(n) * Double(n) / t / 1e9
        }
    }

    /// Median GFLOP/s (2·n³ flops) of C = A·B, n × n Float32, with `threads` BLAS threads.
    public static func sgemmRate(n: Int = 2048, runs: Int = 5, threads: Int) -> Double {
        var rng = Xoshiro256StarStar(seed: 1)
        let a = (0..<n * n).map { _ in Float(rng.uniform(-1, 1)) }
        let b = (0..<n * n).map { _ in Float(rng.uniform(-1, 1)) }
        var c = [Float](repeating: 0, count: n * n)
        let t = BLASThreads.with(threads: threads) {
            Timing.median(runs: runs) {
                c.withUnsafeMutableBufferPointer { cb in
                    Float.gemm(
                        transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: a, lda: n, b: b, ldb: n,
                        beta: 0, c: cb.baseAddress!, ldc: n)
                }
            }
        }
        return 2 * Double(n) * Double(n) * Double(n) / t / 1e9
    }
}
