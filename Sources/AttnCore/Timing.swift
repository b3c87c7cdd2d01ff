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

extension Timing {
    /// Seconds of CPU time used by this process (all threads).
    public static func processCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Medians of wall and process CPU seconds over `runs` runs after one warm-up.
    public static func medians(runs: Int, _ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
        try body()
        var wall: [Double] = [], cpu: [Double] = []
        for _ in 0..<max(1, runs) {
            let c0 = processCPUSeconds()
            wall.append(try seconds(body))
            cpu.append(processCPUSeconds() - c0)
        }
        return (median(of: wall), median(of: cpu))
    }

    /// Medians of `body` and `yardstick` timed alternately after one warm-up each, so that a
    /// machine whose load drifts slows both alike (a ratio of the two is then meaningful).
    public static func alternating(
        runs: Int, _ body: () throws -> Void,
        yardstick: () throws -> Void
    ) rethrows -> (body: Double, yardstick: Double) {
        try body()
        try yardstick()
        var a: [Double] = [], b: [Double] = []
        for _ in 0..<max(1, runs) {
            a.append(try seconds(body))
            b.append(try seconds(yardstick))
        }
        return (median(of: a), median(of: b))
    }

    /// Medians of each of `bodies`, timed in turn, round after round, after one warm-up each (`alternating` for more
    /// than one kernel against one yardstick).
    public static func interleaved(runs: Int, _ bodies: [() throws -> Void]) throws -> [Double] {
        for body in bodies { try body() }
        var times = [[Double]](repeating: [], count: bodies.count)
        for _ in 0..<max(1, runs) {
            for (i, body) in bodies.enumerated() { times[i].append(try seconds(body)) }
        }
        return times.map { median(of: $0) }
    }

    /// The 1-minute load average ("?" where /proc/loadavg is missing): benchmarks record it.
    public static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init)
            ?? "?"
    }
}
