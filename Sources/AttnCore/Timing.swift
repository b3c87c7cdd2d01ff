import Foundation

/// Wall-clock timing for benchmarks (never for tests).
public enum Timing {
    /// Monotonic seconds.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Seconds taken by `body`.
    public static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = now()
        try body()
        return now() - t0
    }

    /// Median of `runs` timings after `warmup` untimed runs. This machine is
    /// noisy: medians, not means.
    public static func median(runs: Int, warmup: Int = 1, _ body: () throws -> Void) rethrows -> Double {
        for _ in 0..<warmup { try body() }
        var t: [Double] = []
        for _ in 0..<max(1, runs) { t.append(try seconds(body)) }
        return median(of: t)
    }

    public static func median(of xs: [Double]) -> Double {
        precondition(!xs.isEmpty)
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
    }
}
