import AttnCore
import Testing

/// `Timing.alternating`: the benchmarks' interleaved medians (what is timed, not how fast).
@Suite struct TimingTests {
    @Test func alternatingTimesBothBodiesOnceEachPerRunAfterAWarmUp() {
        var a = 0, b = 0
        let (x, y) = Timing.alternating(runs: 3, { a += 1 }, yardstick: { b += 1 })
        #expect(a == 4 && b == 4 && x >= 0 && y >= 0)
    }
}
