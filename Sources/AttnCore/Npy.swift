import Foundation

/// NumPy `.npy` files, format versions 1.0, 2.0 and 3.0.
///
/// Supported: float16, float32 and float64 (all read exactly), little- or
/// big-endian, C or Fortran order, 1 to 4 dimensions (`[batch, heads, n, d]`
/// is PyTorch's layout), zero-size arrays. Everything else is rejected with an
/// `AttnError.usage` whose message names the file and the problem.
///
/// Safety: the byte size implied by the header is checked (with overflow
/// detection) against the file's actual size *before* any allocation, so a
/// hostile header can neither crash the reader nor make it allocate absurdly.
public enum Npy {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    /// The element type found in a file.
    public enum DType: String, Sendable {
        case float16, float32, float64

        /// Bytes per element.
        public var itemSize: Int { self == .float16 ? 2 : self == .float32 ? 4 : 8 }
    }

    /// A parsed header.
    public struct Header: Sendable, Equatable {
        public var dtype: DType
        public var bigEndian: Bool
        public var fortranOrder: Bool
        public var shape: [Int]
    }

    // MARK: Reading

    /// Reads a file as a tensor of `T`, converting from the stored dtype.
    ///
    /// Float16 and Float32 data read as Double are exact (so is Float16 read as
    /// Float); Float64 data read as Float rounds to nearest.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func read<T: AttnScalar>(_ path: String, as: T.Type = T.self) throws -> Tensor<T> {
        if let (t, _) = try readNative(path, as: T.self) { return t }
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw AttnError.usage("\(path): cannot read file")
        }
        return try decode(data, name: path)
    }

    /// Decodes the bytes of a .npy file. `name` is used in error messages.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func decode<T: AttnScalar>(_ data: Data, name: String = "input", as: T.Type = T.self) throws
        -> Tensor<T>
    {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let (header, dataOffset) = try parseHeader(raw, name: name)
            let count = try elementCount(header.shape, name: name)
            let itemSize = header.dtype.itemSize
            let (bytes, overflow) = count.multipliedReportingOverflow(by: itemSize)
            guard !overflow else { throw AttnError.usage("\(name): shape \(header.shape) exceeds the address space") }
            let available = raw.count - dataOffset
            guard bytes <= available else {
                throw AttnError.usage(
                    "\(name): truncated data: shape \(header.shape) needs \(bytes) bytes, file has \(available)")
            }
            guard bytes == available else {
                throw AttnError.usage("\(name): \(available - bytes) unexpected trailing bytes after the data")
            }
            let body = UnsafeRawBufferPointer(rebasing: raw[dataOffset..<dataOffset + bytes])
            var values = [T](repeating: 0, count: count)
            let native = header.bigEndian == (1.bigEndian == 1)
            switch header.dtype {
            case .float32 where native && T.self == Float.self, .float64 where native && T.self == Double.self:
                // The stored type in the host's order: one copy of the bytes, no per-element conversion.
                values.withUnsafeMutableBytes { $0.copyMemory(from: body) }
            case .float32 where native:
                values.withUnsafeMutableBufferPointer { out in
                    for i in 0..<count { out[i] = T(body.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)) }
                }
            case .float64 where native:
                values.withUnsafeMutableBufferPointer { out in
                    for i in 0..<count { out[i] = T(body.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
                }
            case .float16:
                for i in 0..<count {
                    var bits = body.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                    bits = header.bigEndian ? UInt16(bigEndian: bits) : UInt16(littleEndian: bits)
                    values[i] = T(halfToDouble(bits))
                }
            case .float32:
                for i in 0..<count {
                    var bits = body.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                    bits = header.bigEndian ? UInt32(bigEndian: bits) : UInt32(littleEndian: bits)
                    values[i] = T(Float(bitPattern: bits))
                }
            case .float64:
                for i in 0..<count {
                    var bits = body.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
                    bits = header.bigEndian ? UInt64(bigEndian: bits) : UInt64(littleEndian: bits)
                    values[i] = T(Double(bitPattern: bits))
                }
            }
            if header.fortranOrder { values = fortranToC(values, shape: header.shape) }
            return tensor(values, shape: header.shape)
        }
    }

    /// C-order `values` of a parsed header's `shape` (1 to 4 axes) as a tensor.
    static func tensor<T: AttnScalar>(_ values: [T], shape s: [Int]) -> Tensor<T> {
        switch s.count {
        case 1: return Tensor(heads: 1, rows: 1, cols: s[0], storage: values, logicalRank: 1)
        case 2: return Tensor(heads: 1, rows: s[0], cols: s[1], storage: values, logicalRank: 2)
        case 3: return Tensor(heads: s[0], rows: s[1], cols: s[2], storage: values, logicalRank: 3)
        default:
            return Tensor(
                heads: s[0] * s[1], rows: s[2], cols: s[3], storage: values, logicalRank: 4,
                batch: s[0], headsPerBatch: s[1])
        }
    }

    /// Parses magic, version and header dict. Returns the header and the offset of the data.
    public static func parseHeader(_ raw: UnsafeRawBufferPointer, name: String) throws -> (Header, Int) {
        let (text, offset) = try headerText(raw, name: name)
        return (try parseDict(text, name: name), offset)
    }

    /// Magic, version and the header dict's text. Returns the text and the offset of the data.
    static func headerText(_ raw: UnsafeRawBufferPointer, name: String) throws -> (String, Int) {
        guard raw.count >= 10, Array(raw[0..<6]) == magic else {
            throw AttnError.usage("\(name): not a .npy file (bad magic string)")
        }
        let major = raw[6], minor = raw[7]
        let headerLen: Int, start: Int
        switch major {
        case 1:
            headerLen = Int(raw[8]) | Int(raw[9]) << 8
            start = 10
        case 2, 3:
            guard raw.count >= 12 else { throw AttnError.usage("\(name): truncated .npy header") }
            headerLen = Int(raw[8]) | Int(raw[9]) << 8 | Int(raw[10]) << 16 | Int(raw[11]) << 24
            start = 12
        default:
            throw AttnError.usage("\(name): unsupported .npy format version \(major).\(minor)")
        }
        guard minor == 0 else { throw AttnError.usage("\(name): unsupported .npy format version \(major).\(minor)") }
        guard headerLen <= raw.count - start else { throw AttnError.usage("\(name): truncated .npy header") }
        let headerBytes = Array(raw[start..<start + headerLen])
        // Versions 1 and 2 are latin-1, version 3 is UTF-8; the dict we accept is ASCII either way.
        guard
            let text = major == 3
                ? String(bytes: headerBytes, encoding: .utf8)
                : String(bytes: headerBytes, encoding: .isoLatin1)
        else {
            throw AttnError.usage("\(name): malformed header (bad encoding)")
        }
        return (text, start + headerLen)
    }

    /// Parses `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`.
    static func parseDict(_ text: String, name: String) throws -> Header {
        var p = DictParser(chars: Array(text.unicodeScalars), name: name)
        let dict = try p.parseDict()
        for key in dict.keys where !["descr", "fortran_order", "shape"].contains(key) {
            throw AttnError.usage("\(name): malformed header (unexpected key '\(key)')")
        }
        guard case .string(let descr)? = dict["descr"] else {
            if dict["descr"] != nil {
                throw AttnError.usage(
                    "\(name): structured dtypes are not supported (only float16, float32 and float64)")
            }
            throw AttnError.usage("\(name): malformed header (no 'descr')")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw AttnError.usage("\(name): malformed header (no boolean 'fortran_order')")
        }
        guard case .tuple(let shape)? = dict["shape"] else {
            throw AttnError.usage("\(name): malformed header (no tuple 'shape')")
        }
        let (dtype, bigEndian) = try parseDescr(descr, name: name)
        guard (1...4).contains(shape.count) else {
            throw AttnError.usage(
                "\(name): \(shape.count)-dimensional arrays are not supported (need 1 to 4 dimensions)")
        }
        return Header(dtype: dtype, bigEndian: bigEndian, fortranOrder: fortran, shape: shape)
    }

    static func parseDescr(_ d: String, name: String) throws -> (DType, Bool) {
        guard let order = d.first else { throw AttnError.usage("\(name): malformed header (empty descr)") }
        let code = String(d.dropFirst())
        if d == "|O" || d.hasSuffix("O") {
            throw AttnError.usage("\(name): object (pickled) arrays are not supported")
        }
        let big: Bool
        switch order {
        case "<": big = false
        case ">": big = true
        case "=": big = (1.bigEndian == 1)
        case "|": big = false
        default: throw AttnError.usage("\(name): malformed descr '\(d)'")
        }
        switch code {
        case "f2": return (.float16, big)
        case "f4": return (.float32, big)
        case "f8": return (.float64, big)
        default:
            throw AttnError.usage(
                "\(name): unsupported dtype \(describe(d)) (only float16, float32 and float64; "
                    + "save bfloat16 as .float(), which is exact)")
        }
    }

    /// Human name of a NumPy descr for error messages.
    static func describe(_ d: String) -> String {
        let code = String(d.dropFirst())
        let names: [String: String] = [
            "f16": "float128", "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64",
            "u1": "uint8", "u2": "uint16", "u4": "uint32", "u8": "uint64", "b1": "bool",
            "c8": "complex64", "c16": "complex128",
        ]
        if let n = names[code] { return "\(n) ('\(d)')" }
        return "'\(d)'"
    }

    static func elementCount(_ shape: [Int], name: String) throws -> Int {
        var count = 1
        for s in shape {
            guard s >= 0 else { throw AttnError.usage("\(name): negative dimension in shape \(shape)") }
            let (c, o) = count.multipliedReportingOverflow(by: s)
            guard !o else { throw AttnError.usage("\(name): shape \(shape) exceeds the address space") }
            count = c
        }
        return count
    }

    /// The exact value of an IEEE binary16 bit pattern (every half is a double).
    static func halfToDouble(_ h: UInt16) -> Double {
        let sign: Double = h & 0x8000 != 0 ? -1 : 1
        let e = Int(h >> 10 & 0x1f), m = Double(h & 0x3ff)
        switch e {
        case 0: return sign * m * 0x1p-24  // zero or subnormal: m·2⁻²⁴
        case 31: return m == 0 ? sign * .infinity : .nan
        default: return sign * (1024 + m) * Double(sign: .plus, exponent: e - 25, significand: 1)
        }
    }

    /// The binary16 bit pattern nearest to `x` (ties to even), via Float16.
    static func doubleToHalf(_ x: Double) -> UInt16 { Float16(x).bitPattern }

    /// Reorders column-major (Fortran) data to row-major.
    static func fortranToC<T>(_ v: [T], shape: [Int]) -> [T] {
        guard shape.count > 1, !v.isEmpty else { return v }
        var out = v
        // Fortran strides: 1, s0, s0*s1 ... ; C index walks the last axis fastest.
        var fStride = [Int](repeating: 1, count: shape.count)
        for a in 1..<shape.count { fStride[a] = fStride[a - 1] * shape[a - 1] }
        var idx = [Int](repeating: 0, count: shape.count)
        for c in 0..<v.count {
            var f = 0
            for a in 0..<shape.count { f += idx[a] * fStride[a] }
            out[c] = v[f]
            var a = shape.count - 1
            while a >= 0 {
                idx[a] += 1
                if idx[a] < shape[a] { break }
                idx[a] = 0
                a -= 1
            }
        }
        return out
    }

    // MARK: Writing

    /// Encodes a tensor as a little-endian C-order file: format 1.0, or 2.0 when the
    /// header would not fit 1.0's 16-bit length (never for the ≤ 4-D shapes written today).
    /// To float16 (and float32 from Double) values round to nearest, ties to even.
    /// Specialised, with the stored type written as its bytes in one copy.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func encode<T: AttnScalar>(_ t: Tensor<T>, dtype: DType? = nil) -> Data {
        let dt = dtype ?? (T.self == Float.self ? .float32 : .float64)
        var out = Data(headerBytes(t, dtype: dt))
        out.reserveCapacity(out.count + t.count * dt.itemSize)
        let little = 1.littleEndian == 1
        t.storage.withUnsafeBufferPointer { b in
            switch dt {
            case .float32 where little && T.self == Float.self, .float64 where little && T.self == Double.self:
                out.append(UnsafeRawBufferPointer(b).bindMemory(to: UInt8.self))  // the bytes as they are
            case .float16:
                var bytes = [UInt16](repeating: 0, count: b.count)
                for i in 0..<b.count { bytes[i] = doubleToHalf(Double(b[i])).littleEndian }
                bytes.withUnsafeBytes { out.append($0.bindMemory(to: UInt8.self)) }
            case .float32:
                var bits = [UInt32](repeating: 0, count: b.count)
                for i in 0..<b.count { bits[i] = Float(b[i]).bitPattern.littleEndian }
                bits.withUnsafeBytes { out.append($0.bindMemory(to: UInt8.self)) }
            case .float64:
                var bits = [UInt64](repeating: 0, count: b.count)
                for i in 0..<b.count { bits[i] = Double(b[i]).bitPattern.littleEndian }
                bits.withUnsafeBytes { out.append($0.bindMemory(to: UInt8.self)) }
            }
        }
        return out
    }

    /// Magic, version, header length and the ASCII header `dict`, padded with spaces and a
    /// final '\n' so the data starts on a 64-byte boundary. Format 1.0 stores the length in
    /// 16 bits; a longer header gets format 2.0 (32 bits, so a 12-byte prefix), as NumPy does.
    /// 3.0 only differs by a UTF-8 header, which an ASCII dict never needs.
    /// The header of `t` stored as `dt` (little-endian, C order).
    static func headerBytes<T: AttnScalar>(_ t: Tensor<T>, dtype dt: DType) -> [UInt8] {
        let shapeText: String
        switch t.shape.count {
        case 1: shapeText = "(\(t.shape[0]),)"
        default: shapeText = "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        }
        let code = dt == .float16 ? "f2" : dt == .float32 ? "f4" : "f8"
        return header("{'descr': '<\(code)', 'fortran_order': False, 'shape': \(shapeText), }")
    }

    package static func header(_ dict: String) -> [UInt8] {
        func padded(prefix: Int) -> [UInt8] {
            let total = (prefix + dict.utf8.count + 1 + 63) / 64 * 64
            return Array(dict.utf8) + [UInt8](repeating: 0x20, count: total - prefix - dict.utf8.count - 1) + [0x0a]
        }
        let short = padded(prefix: 10)
        if short.count <= Int(UInt16.max) {
            let hl = short.count
            return magic + [1, 0, UInt8(hl & 0xff), UInt8(hl >> 8)] + short
        }
        let long = padded(prefix: 12)
        let hl = UInt32(long.count)  // a String of ≥ 4 GiB is beyond any shape's text
        return magic + [2, 0] + (0..<4).map { UInt8(truncatingIfNeeded: hl >> (8 * $0)) } + long
    }

    /// Writes atomically (temp file + rename).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func write<T: AttnScalar>(_ t: Tensor<T>, to path: String, dtype: DType? = nil) throws {
        if dtype == nil || dtype == (T.self == Float.self ? .float32 : .float64),
            try writeNative(t, to: path) != nil
        {
            return
        }
        try AtomicFile.write(encode(t, dtype: dtype), to: URL(fileURLWithPath: path))
    }
}

/// A tiny parser for the Python literal subset used by .npy headers.
struct DictParser {
    enum Value: Equatable {
        case string(String)
        case bool(Bool)
        case tuple([Int])
        case other
    }
    let chars: [Unicode.Scalar]
    let name: String
    var i = 0

    init(chars: [Unicode.Scalar], name: String) { self.chars = chars; self.name = name }

    func fail(_ what: String) -> AttnError { AttnError.usage("\(name): malformed header (\(what))") }

    mutating func skipSpace() { while i < chars.count, chars[i].properties.isWhitespace { i += 1 } }

    mutating func expect(_ c: Unicode.Scalar) throws {
        skipSpace()
        guard i < chars.count, chars[i] == c else { throw fail("expected '\(c)'") }
        i += 1
    }

    mutating func peek() -> Unicode.Scalar? { skipSpace(); return i < chars.count ? chars[i] : nil }

    mutating func parseDict() throws -> [String: Value] {
        try expect("{")
        var out: [String: Value] = [:]
        while true {
            if peek() == "}" { i += 1; break }
            guard case .string(let key) = try parseValue() else { throw fail("dict key is not a string") }
            try expect(":")
            guard out[key] == nil else { throw fail("duplicate key '\(key)'") }
            out[key] = try parseValue()
            if peek() == "," { i += 1; continue }
            try expect("}")
            break
        }
        skipSpace()
        guard i == chars.count else { throw fail("text after the dict") }
        return out
    }

    mutating func parseValue() throws -> Value {
        guard let c = peek() else { throw fail("unexpected end") }
        switch c {
        case "'", "\"":
            i += 1
            var s = ""
            while i < chars.count, chars[i] != c { s.unicodeScalars.append(chars[i]); i += 1 }
            guard i < chars.count else { throw fail("unterminated string") }
            i += 1
            return .string(s)
        case "(":
            i += 1
            var dims: [Int] = []
            while true {
                if peek() == ")" { i += 1; break }
                skipSpace()
                var digits = ""
                while i < chars.count, let d = Character(chars[i]).wholeNumberValue, d >= 0 {
                    digits.append(Character(chars[i])); i += 1
                    if digits.count > 30 { throw fail("dimension too long") }
                }
                // A trailing 'L' (Python 2 longs) is tolerated.
                if i < chars.count, chars[i] == "L" { i += 1 }
                guard !digits.isEmpty else { throw fail("shape holds a non-integer") }
                guard let v = Int(digits) else {
                    throw AttnError.usage("\(name): shape dimension \(digits) exceeds the address space")
                }
                dims.append(v)
                if peek() == "," { i += 1; continue }
                try expect(")")
                break
            }
            return .tuple(dims)
        case "[", "{":
            // Structured dtypes: skip the balanced bracket and report it as "other".
            var depth = 0
            repeat {
                if chars[i] == "[" || chars[i] == "{" || chars[i] == "(" { depth += 1 }
                if chars[i] == "]" || chars[i] == "}" || chars[i] == ")" { depth -= 1 }
                i += 1
            } while depth > 0 && i < chars.count
            guard depth == 0 else { throw fail("unbalanced brackets") }
            return .other
        default:
            var word = ""
            while i < chars.count, chars[i].properties.isAlphabetic || chars[i].properties.numericType != nil {
                word.unicodeScalars.append(chars[i]); i += 1
            }
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            default: throw fail("unexpected token '\(word.isEmpty ? String(c) : word)'")
            }
        }
    }
}
