import AttnCore
import Testing

/// Known answers for the two generators every random input comes from (AttnKit.docc/Conventions.md, "Randomness").
/// The expected words were printed by the published C reference code (splitmix64.c and
/// xoshiro256starstar.c of Blackman & Vigna, transcribed and compiled with gcc), seeded the way
/// `Xoshiro256StarStar.init(seed:)` seeds: four SplitMix64 outputs.
@Suite struct RandomKnownAnswerTests {
    @Test func splitMix64MatchesTheReference() {
        var g = SplitMix64(seed: 0)
        #expect([g.next(), g.next(), g.next()] == [0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f])
        var h = SplitMix64(seed: 1234567)  // also Java SplittableRandom's published first value 6457827717110365317
        #expect([h.next(), h.next(), h.next(), h.next(), h.next()]
            == [0x599ed017fb08fc85, 0x2c73f08458540fa5, 0x883ebce5a3f27c77, 0x3fbef740e9177b3f, 0xe3b8346708cb5ecd])
    }

    @Test func xoshiro256StarStarMatchesTheReference() {
        var g = Xoshiro256StarStar(seed: 42)
        let first = (0..<6).map { _ in g.next() }
        #expect(first == [0x15780b2e0c2ec716, 0x6104d9866d113a7e, 0xae17533239e499a1,
                          0xecb8ad4703b360a1, 0xfde6dc7fe2ec5e64, 0xc50da53101795238])
        for _ in 0..<994 { _ = g.next() }
        #expect(g.next() == 0x0f5028c28f5771b2)  // the 1001st output
    }
}
