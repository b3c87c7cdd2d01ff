import AttnCore
import AttnKernels
import Foundation

/// `attnbound bench poly`'s measurement: the polynomial method's time vs n
/// beside the fast exact kernel (the yardstick, timed in the same run), the
/// fitted exponents of time vs n, and the measured crossover against
/// `CostModel`'s.
///
/// Float32, one head, inputs uniform in [−B, B] (seed 1), scale 1/d, n_q = n_k = n,
/// R = s·d·B² and the certified degree for ε. Times are medians (wall and
/// process CPU) after one warm-up run: this is for benchmarks, never tests.
public enum PolyBenchmark {
    public struct Setup: Sendable, Equatable {
        public var minLog2 = 10, maxLog2 = 18, exactMaxLog2 = 15
        public var d = 4
        public var B = 1.0
        public var epsilon = 1e-6
        public var family = ExpFamily.chebyshev
        public var threads = 1
        public var runs = 5
        public init() {}
    }

    /// Median seconds of one size (exact: nil where the exact kernel was not timed).
    public struct Point: Sendable, Equatable {
        public let n: Int
        public let poly: Double, exact: Double?
        public let polyCPU: Double, exactCPU: Double?
        public init(n: Int, poly: Double, exact: Double?, polyCPU: Double, exactCPU: Double?) {
            (self.n, self.poly, self.exact, self.polyCPU, self.exactCPU) = (n, poly, exact, polyCPU, exactCPU)
        }
    }

    public struct Report: Sendable {
        public let radius: Double, degree: Int, rank: Int
        public let points: [Point]
        /// The finer grid n = 2^{k/4} on which the crossover is measured (exact always timed).
        public let crossoverGrid: [Point]
        /// Least-squares slopes of log t against log n.
        public let polyExponent: Double, exactExponent: Double, polyCPUExponent: Double
        /// n where exact and poly take the same time (geometric interpolation); NaN if not reached.
        public let measuredCrossover: Double
        public let modelCrossover: Double
        public let model: CostModel
    }

    /// - Throws: `AttnError.infeasible` when no certified degree exists for ε at this R.
    public static func run(_ s: Setup, progress: (Int) -> Void = { _ in }) throws -> Report {
        let R = ScoreRadius.fromEntryBound(s.B, d: s.d, scale: Scale.paper.value(d: s.d))
        guard let g = CertifiedExpBound.certifiedDegree(R: R, epsilon: s.epsilon, family: s.family),
            let r = PolyRank.rank(d: s.d, degree: g)
        else {
            throw AttnError.infeasible(.epsilon, "no certified degree for ε = \(s.epsilon) at R = \(R)")
        }
        var points: [Point] = []
        for e in s.minLog2...s.maxLog2 {
            let n = 1 << e
            points.append(
                try time(s, n: n, exact: e <= s.exactMaxLog2, runs: e >= 17 ? max(1, min(s.runs, 3)) : s.runs))
            progress(n)
        }
        // Crossover on a finer grid: n = 2^{k/4}, from 16 up, until poly wins twice in a row.
        var fine: [Point] = []
        var k = 16, wins = 0
        while k <= 4 * s.exactMaxLog2 {
            let p = try time(s, n: Int(pow(2, Double(k) / 4).rounded()), exact: true, runs: max(s.runs, 5))
            fine.append(p)
            wins = p.poly < p.exact! ? wins + 1 : 0
            if wins >= 2 { break }
            k += 1
        }
        let model = CostModel()
        return Report(
            radius: R, degree: g, rank: r, points: points, crossoverGrid: fine,
            polyExponent: slope(points.map { (Double($0.n), $0.poly) }),
            exactExponent: slope(points.compactMap { p in p.exact.map { (Double(p.n), $0) } }),
            polyCPUExponent: slope(points.map { (Double($0.n), $0.polyCPU) }),
            measuredCrossover: crossover(fine),
            modelCrossover: model.crossover(d: s.d, valueCols: s.d, rank: Double(r)), model: model)
    }

    static func time(_ s: Setup, n: Int, exact: Bool, runs: Int) throws -> Point {
        var rng = Xoshiro256StarStar(seed: 1)
        let q: Tensor<Float> = InputDistribution.uniform.sample(rows: n, cols: s.d, bound: s.B, using: &rng)
        let k: Tensor<Float> = InputDistribution.uniform.sample(rows: n, cols: s.d, bound: s.B, using: &rng)
        let v: Tensor<Float> = InputDistribution.uniform.sample(rows: n, cols: s.d, bound: s.B, using: &rng)
        let opts = PolyOptions(
            family: s.family, degree: .epsilon(s.epsilon), radius: .entryBound(s.B), threads: s.threads)
        let tp = try Timing.medians(runs: runs) {
            _ = try PolyAttention.compute(q: q, k: k, v: v, scale: .paper, options: opts)
        }
        var te: (wall: Double, cpu: Double)? = nil
        if exact {
            te = try Timing.medians(runs: runs) {
                _ = try FastAttention.compute(q: q, k: k, v: v, scale: .paper, threads: s.threads)
            }
        }
        return Point(n: n, poly: tp.wall, exact: te?.wall, polyCPU: tp.cpu, exactCPU: te?.cpu)
    }

    /// Least-squares slope of log t against log n (NaN for fewer than two points).
    public static func slope(_ pts: [(Double, Double)]) -> Double {
        guard pts.count >= 2 else { return .nan }
        let xs = pts.map { log2($0.0) }, ys = pts.map { log2($0.1) }
        let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
        var sxy = 0.0, sxx = 0.0
        for i in 0..<xs.count { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) * (xs[i] - mx) }
        return sxy / sxx
    }

    /// After the last n where exact was at least as fast, by geometric interpolation
    /// of log(exact/poly) = 0 (robust to an early noisy "win"); the first n if poly
    /// always won; NaN if it never did.
    public static func crossover(_ fine: [Point]) -> Double {
        guard let lastLoss = fine.lastIndex(where: { $0.poly >= $0.exact! }) else {
            return fine.first.map { Double($0.n) } ?? .nan
        }
        guard lastLoss + 1 < fine.count else { return .nan }
        let (a, b) = (fine[lastLoss], fine[lastLoss + 1])
        let la = log(a.exact! / a.poly), lb = log(b.exact! / b.poly)
        let t = la / (la - lb)
        return exp(log(Double(a.n)) + t * (log(Double(b.n)) - log(Double(a.n))))
    }
}
