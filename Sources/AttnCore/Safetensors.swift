import Foundation

/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of
/// JSON mapping each tensor's name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets
/// into the data that follows the header) plus an optional `"__metadata__"` of strings, then the
/// raw little-endian data.
///
/// Read: F64, F32, F16, BF16, F8_E4M3 (OCP E4M3FN) and F8_E5M2, exactly; every other dtype is
/// rejected by name when its tensor is read. The header is validated as a whole before any tensor
/// is decoded: a header length beyond the file, JSON that does not parse, offsets that overlap or
/// fall outside the data, and a shape whose byte count differs from its offsets are each an
/// `AttnError.usage` naming the file (and the tensor), so a hostile file never makes the reader
/// allocate more than it holds.
public enum Safetensors {
    /// One tensor's header entry.
    public struct Entry: Sendable, Equatable {
        public let name: String
        /// The dtype as the file spells it ("BF16"); `storageType` is nil for an unsupported one.
        public let dtype: String
        public let shape: [Int]
        /// Byte range within the data section.
        public let offsets: Range<Int>
        public var storageType: StorageType? { Safetensors.dtypes[dtype] }
    }

    /// A parsed header: the entries in file order, the metadata, and where the data starts.
    public struct Header: Sendable, Equatable {
        public let entries: [Entry]
        public let metadata: [String: String]
        public let dataStart: Int
        public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }
    }

    static let dtypes: [String: StorageType] = [
        "F64": .float64, "F32": .float32, "F16": .float16, "BF16": .bfloat16,
        "F8_E4M3": .float8e4m3, "F8_E5M2": .float8e5m2,
    ]
    /// Largest header accepted (the reference implementation's limit).
    static let maxHeader = 100_000_000

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    private struct RawEntry: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }
    private struct RawHeader: Decodable {
        var entries: [(String, RawEntry)] = []
        var metadata: [String: String] = [:]
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            for key in c.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try c.decode([String: String].self, forKey: key)
                } else {
                    entries.append((key.stringValue, try c.decode(RawEntry.self, forKey: key)))
                }
            }
        }
    }

    /// Parses and validates the header of `raw`; `name` (the file) is used in error messages.
    public static func parseHeader(_ raw: UnsafeRawBufferPointer, name: String) throws -> Header {
        guard raw.count >= 8 else {
            throw AttnError.usage("\(name): not a safetensors file (shorter than its 8-byte header length)")
        }
        let n = raw.loadUnaligned(as: UInt64.self).littleEndian
        guard n <= UInt64(raw.count - 8) else {
            throw AttnError.usage("\(name): header length \(n) is beyond the file (\(raw.count) bytes)")
        }
        guard n <= UInt64(maxHeader) else {
            throw AttnError.usage("\(name): header length \(n) exceeds \(maxHeader) bytes")
        }
        let dataStart = 8 + Int(n)
        let json = Data(raw[8..<dataStart])
        let parsed: RawHeader
        do {
            parsed = try JSONDecoder().decode(RawHeader.self, from: json)
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            throw AttnError.usage("\(name): the header is not valid JSON")
        } catch let e as DecodingError {
            throw AttnError.usage("\(name): malformed header (\(describe(e)))")
        } catch {
            throw AttnError.usage("\(name): the header is not valid JSON")
        }
        let dataSize = raw.count - dataStart
        var entries: [Entry] = []
        for (key, e) in parsed.entries {
            guard e.data_offsets.count == 2, e.data_offsets[0] >= 0, e.data_offsets[0] <= e.data_offsets[1] else {
                throw AttnError.usage("\(name): tensor '\(key)' has malformed data_offsets \(e.data_offsets)")
            }
            let (begin, end) = (e.data_offsets[0], e.data_offsets[1])
            guard end <= dataSize else {
                throw AttnError.usage(
                    "\(name): tensor '\(key)' has offsets \(begin)..<\(end) outside the \(dataSize) bytes of data")
            }
            let count = try Npy.elementCount(e.shape, name: "\(name): tensor '\(key)'")
            if let t = dtypes[e.dtype] {
                let (bytes, o) = count.multipliedReportingOverflow(by: t.itemSize)
                guard !o, bytes == end - begin else {
                    throw AttnError.usage(
                        "\(name): tensor '\(key)' has shape \(e.shape) of \(e.dtype), which does not match its "
                            + "\(end - begin) bytes")
                }
            }
            entries.append(Entry(name: key, dtype: e.dtype, shape: e.shape, offsets: begin..<end))
        }
        entries.sort {
            ($0.offsets.lowerBound, $0.offsets.upperBound, $0.name) < (
                $1.offsets.lowerBound, $1.offsets.upperBound, $1.name
            )
        }
        for (a, b) in zip(entries, entries.dropFirst()) where b.offsets.lowerBound < a.offsets.upperBound {
            throw AttnError.usage("\(name): tensors '\(a.name)' and '\(b.name)' have overlapping offsets")
        }
        return Header(entries: entries, metadata: parsed.metadata, dataStart: dataStart)
    }

    /// One line for a header that decodes as JSON but not as a safetensors header.
    private static func describe(_ e: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            c.codingPath.map { $0.intValue.map(String.init) ?? "'\($0.stringValue)'" }.joined(separator: ".")
        }
        switch e {
        case .keyNotFound(let key, let c): return "\(path(c)) lacks '\(key.stringValue)'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            return "\(path(c)) has the wrong type"
        @unknown default: return "not a safetensors header"
        }
    }

    /// Decodes tensor `tensor` of the file bytes `data`.
    /// - Throws: `AttnError.usage` for a malformed header, a missing name (listing those present),
    ///   an unsupported dtype, or a rank outside 1...4.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func decode<T: AttnScalar>(_ data: Data, tensor: String, name: String, as: T.Type = T.self) throws
        -> (Tensor<T>, StorageType)
    {
        try data.withUnsafeBytes { raw in
            let header = try parseHeader(raw, name: name)
            guard let e = header.entry(tensor) else {
                let names = header.entries.map(\.name).sorted().joined(separator: ", ")
                throw AttnError.usage(
                    "\(name): no tensor named '\(tensor)' (the file has: \(names.isEmpty ? "none" : names))")
            }
            guard let type = e.storageType else {
                throw AttnError.usage(
                    "\(name): tensor '\(tensor)' has unsupported dtype \(e.dtype) "
                        + "(supported: F64, F32, F16, BF16, F8_E4M3, F8_E5M2)")
            }
            guard (1...4).contains(e.shape.count) else {
                throw AttnError.usage(
                    "\(name): tensor '\(tensor)' has \(e.shape.count) dimensions (need 1 to 4)")
            }
            let start = header.dataStart + e.offsets.lowerBound
            let body = UnsafeRawBufferPointer(rebasing: raw[start..<header.dataStart + e.offsets.upperBound])
            let count = e.offsets.count / type.itemSize
            return (StorageType.tensor(type.decodeLittleEndian(body, count: count, as: T.self), shape: e.shape), type)
        }
    }

    /// A safetensors file holding `tensors` in order, each rounded to its storage type
    /// (to nearest, ties to even; fp8 is not written). For tests, notebooks and slices.
    public static func encode(
        _ tensors: [(name: String, tensor: Tensor<Double>, type: StorageType)],
        metadata: [String: String] = [:]
    ) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var body = Data()
        let spell = Dictionary(uniqueKeysWithValues: dtypes.map { ($1, $0) })
        for (name, t, type) in tensors {
            let begin = body.count
            for x in t.storage {
                switch type {
                case .float64: withUnsafeBytes(of: x.bitPattern.littleEndian) { body.append(contentsOf: $0) }
                case .float32: withUnsafeBytes(of: Float(x).bitPattern.littleEndian) { body.append(contentsOf: $0) }
                case .float16: withUnsafeBytes(of: Float16(x).bitPattern.littleEndian) { body.append(contentsOf: $0) }
                case .bfloat16:
                    let b = UInt16(Float(StorageType.bfloat16.format.roundToNearest(x)).bitPattern >> 16)
                    withUnsafeBytes(of: b.littleEndian) { body.append(contentsOf: $0) }
                case .float8e4m3, .float8e5m2: throw AttnError.usage("writing \(type.rawValue) is not supported")
                }
            }
            header[name] = ["dtype": spell[type]!, "shape": t.shape, "data_offsets": [begin, body.count]]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // the data starts 8-aligned, as the reference writer pads
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + body
    }
}
