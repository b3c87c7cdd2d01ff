/// The element type a tensor was stored in, remembered after its values are widened exactly.
///
/// A kernel writes float16, bfloat16 or fp8; attnbound computes on the exact values as Double
/// (every value of these types is a double) and keeps the storage type so that a candidate is
/// judged against the rounding of its own format (`FloatFormat`).
public enum StorageType: String, Sendable, CaseIterable, Codable {
    /// OCP E4M3FN: bias 7, no infinities, NaN = S.1111.111, max 448.
    case float8e4m3
    /// OCP E5M2: bias 15, with infinities and NaN, max 57344.
    case float8e5m2
    case float16, bfloat16, float32, float64

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .float8e4m3, .float8e5m2: 1
        case .float16, .bfloat16: 2
        case .float32: 4
        case .float64: 8
        }
    }

    /// The format's precision, exponent range and largest finite value.
    public var format: FloatFormat {
        switch self {
        case .float8e4m3: FloatFormat(precision: 4, minExponent: -6, maxFinite: 448, hasInfinity: false)
        case .float8e5m2: FloatFormat(precision: 3, minExponent: -14, maxFinite: 57344, hasInfinity: true)
        case .float16: FloatFormat(precision: 11, minExponent: -14, maxFinite: 65504, hasInfinity: true)
        case .bfloat16:
            FloatFormat(
                precision: 8, minExponent: -126, maxFinite: Double(Float(bitPattern: 0x7f7f_0000)), hasInfinity: true)
        case .float32:
            FloatFormat(
                precision: 24, minExponent: -126, maxFinite: Double(Float.greatestFiniteMagnitude), hasInfinity: true)
        case .float64:
            FloatFormat(precision: 53, minExponent: -1022, maxFinite: .greatestFiniteMagnitude, hasInfinity: true)
        }
    }

    /// The short name used in reports ("fp16", "bf16", "fp8e4m3", …).
    public var shortName: String {
        switch self {
        case .float8e4m3: "fp8e4m3"
        case .float8e5m2: "fp8e5m2"
        case .float16: "fp16"
        case .bfloat16: "bf16"
        case .float32: "fp32"
        case .float64: "fp64"
        }
    }

    /// The type named `text` as a user writes it ("bf16", "bfloat16", "fp16", "float32", …), or nil.
    public init?(name text: String) {
        let t = text.lowercased()
        guard let s = StorageType.allCases.first(where: { $0.rawValue == t || $0.shortName == t }) else { return nil }
        self = s
    }
}

/// A binary floating-point format with round-to-nearest-even: precision p (hidden bit
/// included), the exponent of its smallest normal number, and its largest finite value.
///
/// Every operation is exact in Double for the formats of `StorageType` (p ≤ 53 and the
/// exponent range inside Double's): `roundToNearest(x)` is RN_T(x) exactly, not an approximation.
public struct FloatFormat: Sendable, Equatable {
    public let precision: Int
    public let minExponent: Int
    public let maxFinite: Double
    public let hasInfinity: Bool

    /// u_T = 2⁻ᵖ, half the spacing of the format's numbers relative to their binade.
    public var unitRoundoff: Double { Double(sign: .plus, exponent: -precision, significand: 1) }

    /// The spacing of the format's numbers around `x`: 2^(max(e, emin) − p + 1) where 2^e ≤ |x| < 2^(e+1)
    /// (the subnormal spacing for |x| below the smallest normal, and for 0).
    @inlinable public func ulp(at x: Double) -> Double {
        let e = x == 0 || !x.isFinite ? minExponent : max(Int(x.exponent), minExponent)
        return Double(sign: .plus, exponent: e - precision + 1, significand: 1)
    }

    /// RN_T(x): the format's number nearest to x, ties to even; beyond the range, ±∞ as IEEE
    /// rounds (NaN for a format without infinities). x/ulp and the product back are exact
    /// (powers of two, no Double underflow or overflow for these formats).
    @inlinable public func roundToNearest(_ x: Double) -> Double {
        guard x.isFinite else { return x }
        let q = ulp(at: x)
        let r = (x / q).rounded(.toNearestOrEven) * q
        return abs(r) > maxFinite ? (hasInfinity ? (r < 0 ? -.infinity : .infinity) : .nan) : r
    }

    /// RD_T(x), the largest format number ≤ x (−∞ below the range, max at or above it).
    @inlinable public func roundDown(_ x: Double) -> Double {
        guard x.isFinite else { return x }
        let r = (x / ulp(at: x)).rounded(.down) * ulp(at: x)
        return r > maxFinite ? maxFinite : r < -maxFinite ? -.infinity : r
    }

    /// RU_T(x), the smallest format number ≥ x.
    @inlinable public func roundUp(_ x: Double) -> Double { -roundDown(-x) }

    /// True when x is a finite number of the format (±0 included).
    @inlinable public func contains(_ x: Double) -> Bool { x.isFinite && roundToNearest(x) == x }
}

/// Exact decoders of the narrow formats' bit patterns (every value is a Double).
public enum NarrowFloat {
    /// bfloat16: the high half of a binary32.
    @inlinable public static func bfloat16(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// OCP E4M3FN: S.EEEE.MMM, bias 7; E = 0 is subnormal (M·2⁻⁹); S.1111.111 is NaN; no infinities.
    public static func e4m3(_ b: UInt8) -> Double { e4m3Table[Int(b)] }

    /// OCP E5M2: S.EEEEE.MM, bias 15; E = 0 is subnormal (M·2⁻¹⁶); E = 31 is ±∞ (M = 0) or NaN.
    public static func e5m2(_ b: UInt8) -> Double { e5m2Table[Int(b)] }

    /// All 256 values of each, computed once (a table: the decoding loops stay a load per element).
    static let e4m3Table: [Double] = (0..<256).map { c in
        let e = c >> 3 & 0xf, m = Double(c & 7), sign: Double = c & 0x80 != 0 ? -1 : 1
        if e == 15 && c & 7 == 7 { return .nan }
        return sign * (e == 0 ? m * 0x1p-9 : (8 + m) * Double(sign: .plus, exponent: e - 10, significand: 1))
    }
    static let e5m2Table: [Double] = (0..<256).map { c in
        let e = c >> 2 & 0x1f, m = Double(c & 3), sign: Double = c & 0x80 != 0 ? -1 : 1
        if e == 31 { return m == 0 ? sign * .infinity : .nan }
        return sign * (e == 0 ? m * 0x1p-16 : (4 + m) * Double(sign: .plus, exponent: e - 17, significand: 1))
    }
}

extension StorageType {
    /// The `count` little-endian values at the start of `body`, exactly (Float64 read as Float rounds
    /// to nearest, as `Npy` does). One loop per type, specialised for Float and Double: this runs
    /// once per element of every tensor read.
    /// - Precondition: `body.count ≥ count · itemSize`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package func decodeLittleEndian<T: AttnScalar>(_ body: UnsafeRawBufferPointer, count: Int, as: T.Type = T.self)
        -> [T]
    {
        precondition(body.count >= count * itemSize, "buffer shorter than its shape")
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            switch self {
            case .float8e4m3:
                NarrowFloat.e4m3Table.withUnsafeBufferPointer { t in
                    for i in 0..<count { out[i] = T(t[Int(body[i])]) }
                }
            case .float8e5m2:
                NarrowFloat.e5m2Table.withUnsafeBufferPointer { t in
                    for i in 0..<count { out[i] = T(t[Int(body[i])]) }
                }
            case .float16:
                for i in 0..<count {
                    out[i] = T(
                        Npy.halfToDouble(
                            UInt16(littleEndian: body.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
                }
            case .bfloat16:
                for i in 0..<count {
                    out[i] = T(
                        NarrowFloat.bfloat16(
                            UInt16(littleEndian: body.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
                }
            case .float32:
                for i in 0..<count {
                    out[i] = T(
                        Float(
                            bitPattern: UInt32(littleEndian: body.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                        ))
                }
            case .float64:
                for i in 0..<count {
                    out[i] = T(
                        Double(
                            bitPattern: UInt64(littleEndian: body.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                        ))
                }
            }
            initialized = count
        }
    }

    /// Shape → a tensor (1 to 4 dimensions, as `Npy` lays them out).
    package static func tensor<T>(_ values: [T], shape s: [Int]) -> Tensor<T> {
        switch s.count {
        case 1: Tensor(heads: 1, rows: 1, cols: s[0], storage: values, logicalRank: 1)
        case 2: Tensor(heads: 1, rows: s[0], cols: s[1], storage: values, logicalRank: 2)
        case 3: Tensor(heads: s[0], rows: s[1], cols: s[2], storage: values, logicalRank: 3)
        default:
            Tensor(
                heads: s[0] * s[1], rows: s[2], cols: s[3], storage: values, logicalRank: 4, batch: s[0],
                headsPerBatch: s[1])
        }
    }
}
