import AttnCore
import Foundation
import PropertyBased
import Testing

/// The narrow formats' decoders and rounding, each checked against a value computed another way.
@Suite struct StorageTypeTests {
    /// The value of a sign/exponent/mantissa triple by scalbn (ldexp), from the format's definition.
    static func reference(sign: Int, exponent e: Int, mantissa m: Int, mantissaBits: Int, bias: Int) -> Double {
        let magnitude =
            e == 0
            ? scalbn(Double(m), 1 - bias - mantissaBits)
            : scalbn(Double((1 << mantissaBits) + m), e - bias - mantissaBits)
        return sign == 1 ? -magnitude : magnitude
    }

    @Test func e4m3DecodesAll256CodesAsOCPDefinesThem() {
        var finite = 0
        for code in 0..<256 {
            let (s, e, m) = (code >> 7, (code >> 3) & 15, code & 7)
            let x = NarrowFloat.e4m3(UInt8(code))
            if e == 15 && m == 7 {
                #expect(x.isNaN, "code \(code) is NaN in E4M3FN")
                continue
            }
            finite += 1
            #expect(x == Self.reference(sign: s, exponent: e, mantissa: m, mantissaBits: 3, bias: 7), "code \(code)")
            #expect(x.sign == (s == 1 ? .minus : .plus), "code \(code) keeps its sign, zero included")
        }
        #expect(finite == 254)  // no infinities: only the two NaN codes are not finite
        #expect(NarrowFloat.e4m3(0x7e) == 448 && NarrowFloat.e4m3(0x01) == 0x1p-9)
    }

    @Test func e5m2DecodesAll256CodesAsOCPDefinesThem() {
        for code in 0..<256 {
            let (s, e, m) = (code >> 7, (code >> 2) & 31, code & 3)
            let x = NarrowFloat.e5m2(UInt8(code))
            if e == 31 {
                #expect(m == 0 ? x == (s == 1 ? -Double.infinity : .infinity) : x.isNaN, "code \(code)")
                continue
            }
            #expect(x == Self.reference(sign: s, exponent: e, mantissa: m, mantissaBits: 2, bias: 15), "code \(code)")
        }
        #expect(NarrowFloat.e5m2(0x7b) == 57344 && NarrowFloat.e5m2(0x01) == 0x1p-16)
    }

    @Test func everyFp8CodeIsAValueOfItsFormat() {
        for code in 0..<256 {
            for (t, x) in [
                (StorageType.float8e4m3, NarrowFloat.e4m3(UInt8(code))), (.float8e5m2, NarrowFloat.e5m2(UInt8(code))),
            ]
            where x.isFinite {
                #expect(t.format.contains(x), "\(t) code \(code)")
                #expect(t.format.roundToNearest(x) == x)
            }
        }
    }

    @Test func bfloat16IsTheHighHalfOfABinary32() {
        for b: UInt16 in [0x0000, 0x8000, 0x3f80, 0xbf80, 0x7f7f, 0x0001, 0x7f80, 0xff80] {
            let x = NarrowFloat.bfloat16(b)
            #expect(x.bitPattern == UInt32(b) << 16)
        }
    }

    /// RN to float16 agrees with the hardware/runtime conversion Double → Float16 (ties to even,
    /// subnormals, overflow to ∞), on random doubles near float16's numbers and midpoints.
    @Test func float16RoundingMatchesFloat16Conversion() async {
        await propertyCheck(input: Gen.int(in: -0x7bff...0x7bff), Gen.int(in: -4...4)) { bits, nudge in
            let h = Float16(bitPattern: UInt16(bitPattern: Int16(truncatingIfNeeded: bits)))
            let next = h.nextUp
            guard next.isFinite else { return }
            let mid = (Double(h) + Double(next)) / 2  // a midpoint: exact in Double
            let x = mid + Double(nudge) * Double(h.ulp) / 8
            #expect(StorageType.float16.format.roundToNearest(x) == Double(Float16(x)))
            #expect(StorageType.float16.format.roundToNearest(mid) == Double(Float16(mid)))
        }
    }

    /// RN to bfloat16 (p = 8, float32's exponent range) against a rounding done on the float32 bits:
    /// x exactly a float32, so RN(x) is the float32 rounded at bit 16 with ties to even.
    @Test func bfloat16RoundingMatchesBitRounding() async {
        await propertyCheck(input: Gen.uint32(in: 0...UInt32.max)) { raw in
            let f = Float(bitPattern: raw & 0x7f7f_ffff | (raw & 0x8000_0000))  // finite, below bf16's overflow
            guard f.isFinite else { return }
            let b = f.bitPattern
            let lsb = (b >> 16) & 1
            let rounded = (b &+ 0x7fff &+ lsb) & 0xffff_0000
            let expected = Double(Float(bitPattern: rounded))
            #expect(StorageType.bfloat16.format.roundToNearest(Double(f)) == expected, "x = \(f)")
        }
    }

    @Test func roundDownAndUpBracketAndAreNeighbours() async {
        await propertyCheck(input: Gen.double(in: -70000...70000)) { x in
            let fmt = StorageType.float16.format
            let (d, u) = (fmt.roundDown(x), fmt.roundUp(x))
            #expect(d <= x && x <= u)
            if x.magnitude <= fmt.maxFinite { #expect(d == u ? fmt.contains(x) : Double(Float16(d).nextUp) == u) }
        }
    }

    @Test func namesParse() {
        #expect(StorageType(name: "bf16") == .bfloat16 && StorageType(name: "bfloat16") == .bfloat16)
        #expect(StorageType(name: "FP16") == .float16 && StorageType(name: "int8") == nil)
    }
}
