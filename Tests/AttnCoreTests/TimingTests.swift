import AttnCore
import Testing

/// `Timing.alternating` and `Timing.interleaved`: the benchmarks' interleaved medians (what is timed, not how fast).
@Suite struct TimingTests {
    @Test func alternatingTimesBothBodiesOnceEachPerRunAfterAWarmUp() {
        var a = 0, b = 0
        let (x, y) = Timing.alternating(runs: 3, { a += 1 }, yardstick: { b += 1 })
        #expect(a == 4 && b == 4 && x >= 0 && y >= 0)
    }

    @Test func interleavedTimesEveryBodyOncePerRoundAfterAWarmUp() throws {
        var order: [Int] = []
        let t = try Timing.interleaved(runs: 2, [{ order.append(0) }, { order.append(1) }, { order.append(2) }])
        #expect(order == [0, 1, 2, 0, 1, 2, 0, 1, 2] && t.count == 3 && t.allSatisfy { $0 >= 0 })
    }
}
