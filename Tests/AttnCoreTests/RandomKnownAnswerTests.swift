import AttnCore
import Testing

/// Known answers for the two generators every random input comes from (AttnKit.docc/Conventions.md, "Randomness").
/// The expected words were printed by the published C reference code (splitmix64.c and
/// xoshiro256starstar.c of Blackman & Vigna, transcribed and compiled with gcc), seeded the way
/// `Xoshiro256StarStar.init(seed:)` seeds: four SplitMix64 outputs.
@Suite struct RandomKnownAnswerTests {
    @Test func splitMix64MatchesTheReference() {
        var g = SplitMix64(seed: 0)
        #expect(
            [g.next(), g.next(), g.next()] == [0xe220_a839_7b1d_cdaf, 0x6e78_9e6a_a1b9_65f4, 0x06c4_5d18_8009_454f])
        var h = SplitMix64(seed: 1_234_567)  // also Java SplittableRandom's published first value 6457827717110365317
        #expect(
            [h.next(), h.next(), h.next(), h.next(), h.next()]
                == [
                    0x599e_d017_fb08_fc85, 0x2c73_f084_5854_0fa5, 0x883e_bce5_a3f2_7c77, 0x3fbe_f740_e917_7b3f,
                    0xe3b8_3467_08cb_5ecd,
                ])
    }

    @Test func xoshiro256StarStarMatchesTheReference() {
        var g = Xoshiro256StarStar(seed: 42)
        let first = (0..<6).map { _ in g.next() }
        #expect(
            first == [
                0x1578_0b2e_0c2e_c716, 0x6104_d986_6d11_3a7e, 0xae17_5332_39e4_99a1,
                0xecb8_ad47_03b3_60a1, 0xfde6_dc7f_e2ec_5e64, 0xc50d_a531_0179_5238,
            ])
        for _ in 0..<994 { _ = g.next() }
        #expect(g.next() == 0x0f50_28c2_8f57_71b2)  // the 1001st output
    }
}
