import AttnCore
import Foundation
import Testing

/// `TextFormat`: table numbers; `bound` must never print below the value.
@Suite struct TextFormatTests {
    @Test func boundRoundsUpAndNeverBelow() {
        #expect(TextFormat.bound(1.2345e-7) == "1.24e-07")
        #expect(TextFormat.bound(0.1001) == "1.01e-01")
        #expect(TextFormat.bound(0) == "0" && TextFormat.bound(.infinity) == "inf")
        // Just below a power of ten the rounded-up mantissa carries into the exponent: three digits, never "10.00".
        #expect(TextFormat.bound(9.995e-4) == "1.00e-03" && TextFormat.bound(999.9) == "1.00e+03")
        var rng = Xoshiro256StarStar(seed: 4)
        for _ in 0..<1000 {
            let x = exp(rng.uniform(-700, 700))
            #expect(Double(TextFormat.bound(x))! >= x, "\(x)")
        }
    }

    @Test func fixedAndSci() {
        #expect(TextFormat.fixed(2.25, 3) == "2.250" && TextFormat.fixed(7) == "7.0")
        #expect(
            TextFormat.sci(123456) == "1.23e+05" && TextFormat.sci(-.infinity) == "-inf"
                && TextFormat.sci(.nan) == "nan")
    }
}
