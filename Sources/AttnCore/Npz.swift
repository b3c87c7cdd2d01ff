import CZlib
import Foundation

/// NumPy `.npz` archives (`numpy.savez` and `savez_compressed`): a zip file whose members are
/// `.npy` files named `<array>.npy`, stored or deflated.
///
/// The central directory is read (zip64 sizes and offsets included, as NumPy forces zip64 for its
/// members); a deflated member is inflated by the system zlib, never by hand, into a buffer of its
/// declared size, which is first checked against deflate's largest ratio so a hostile directory
/// cannot make the reader allocate absurdly. Each member's CRC-32 is checked.
public enum Npz {
    /// One member of the archive.
    public struct Member: Sendable, Equatable {
        /// The member's name in the zip (`q.npy`).
        public let path: String
        let method: UInt16, flags: UInt16
        let compressedSize: Int, size: Int, localHeader: Int, crc: UInt32
        /// The array name NumPy gave it (`q`).
        public var name: String { String(path.dropLast(4)) }
    }

    /// The members of the archive `raw`.
    /// - Throws: `AttnError.usage` for a file that is not a zip, a malformed directory or a member not a `.npy`.
    public static func members(_ raw: UnsafeRawBufferPointer, name: String) throws -> [Member] {
        func u16(_ o: Int) -> Int { Int(raw.loadUnaligned(fromByteOffset: o, as: UInt16.self).littleEndian) }
        func u32(_ o: Int) -> Int { Int(raw.loadUnaligned(fromByteOffset: o, as: UInt32.self).littleEndian) }
        func u64(_ o: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: o, as: UInt64.self).littleEndian }
        let bad = { (what: String) in AttnError.usage("\(name): malformed .npz (\(what))") }
        // End of central directory: 22 bytes plus a comment of at most 65535.
        guard raw.count >= 22 else { throw bad("too short for a zip file") }
        var eocd = raw.count - 22
        while eocd >= 0, eocd >= raw.count - 22 - 65535, u32(eocd) != 0x0605_4b50 { eocd -= 1 }
        guard eocd >= 0, eocd >= raw.count - 22 - 65535 else { throw bad("no zip end-of-directory record") }
        var entries = u16(eocd + 10), dirSize = u32(eocd + 12), dirOffset = u32(eocd + 16)
        if entries == 0xffff || dirSize == 0xffff_ffff || dirOffset == 0xffff_ffff, eocd >= 20,
            u32(eocd - 20) == 0x0706_4b50
        {
            let at = u64(eocd - 12)
            guard at <= UInt64(raw.count - 56), u32(Int(at)) == 0x0606_4b50 else { throw bad("bad zip64 directory") }
            let e = u64(Int(at) + 32), s = u64(Int(at) + 40), o = u64(Int(at) + 48)
            guard e < UInt64(raw.count), s <= UInt64(raw.count), o <= UInt64(raw.count) else {
                throw bad("zip64 directory beyond the file")
            }
            (entries, dirSize, dirOffset) = (Int(e), Int(s), Int(o))
        }
        guard dirOffset <= raw.count, dirSize <= raw.count - dirOffset else { throw bad("directory beyond the file") }
        var out: [Member] = []
        var p = dirOffset
        for _ in 0..<entries {
            guard p + 46 <= dirOffset + dirSize, u32(p) == 0x0201_4b50 else { throw bad("truncated central directory") }
            let nameLen = u16(p + 28), extraLen = u16(p + 30), commentLen = u16(p + 32)
            guard p + 46 + nameLen + extraLen + commentLen <= dirOffset + dirSize else {
                throw bad("truncated central directory")
            }
            let path = String(decoding: UnsafeRawBufferPointer(rebasing: raw[p + 46..<p + 46 + nameLen]), as: UTF8.self)
            var compressed = u32(p + 20), size = u32(p + 24), local = u32(p + 42)
            // zip64 extended information: the 0xffffffff fields, in order, from extra field 0x0001.
            var x = p + 46 + nameLen
            let extraEnd = x + extraLen
            while x + 4 <= extraEnd {
                let id = u16(x), len = u16(x + 2)
                guard x + 4 + len <= extraEnd else { throw bad("truncated extra field") }
                if id == 1 {
                    var f = x + 4
                    func next() throws -> Int {
                        guard f + 8 <= x + 4 + len else { throw bad("truncated zip64 field") }
                        let v = u64(f)
                        f += 8
                        guard v <= UInt64(Int.max) else { throw bad("zip64 size beyond the address space") }
                        return Int(v)
                    }
                    if size == 0xffff_ffff { size = try next() }
                    if compressed == 0xffff_ffff { compressed = try next() }
                    if local == 0xffff_ffff { local = try next() }
                }
                x += 4 + len
            }
            guard path.hasSuffix(".npy"), path.count > 4 else {
                throw AttnError.usage("\(name): zip member '\(path)' is not a .npy file")
            }
            out.append(
                Member(
                    path: path, method: UInt16(u16(p + 10)), flags: UInt16(u16(p + 8)), compressedSize: compressed,
                    size: size, localHeader: local, crc: UInt32(u32(p + 16))))
            p += 46 + nameLen + extraLen + commentLen
        }
        return out
    }

    /// The bytes of `member` (a whole `.npy` file), inflated if deflated, CRC checked.
    static func contents(of m: Member, in raw: UnsafeRawBufferPointer, name: String) throws -> Data {
        let bad = { (what: String) in AttnError.usage("\(name): member '\(m.path)' \(what)") }
        guard m.flags & 1 == 0 else { throw bad("is encrypted") }
        guard m.localHeader <= raw.count - 30,
            raw.loadUnaligned(fromByteOffset: m.localHeader, as: UInt32.self).littleEndian == 0x0403_4b50
        else { throw bad("has no local header within the file") }
        let nameLen = Int(raw.loadUnaligned(fromByteOffset: m.localHeader + 26, as: UInt16.self).littleEndian)
        let extraLen = Int(raw.loadUnaligned(fromByteOffset: m.localHeader + 28, as: UInt16.self).littleEndian)
        let start = m.localHeader + 30 + nameLen + extraLen
        guard start <= raw.count, m.compressedSize <= raw.count - start else { throw bad("is truncated") }
        let body = UnsafeRawBufferPointer(rebasing: raw[start..<start + m.compressedSize])
        var out: Data
        switch m.method {
        case 0:
            guard m.size == m.compressedSize else { throw bad("is stored with two different sizes") }
            out = Data(body)
        case 8:
            guard m.size <= Int(UInt32.max), m.compressedSize <= Int(UInt32.max) else {
                throw bad("is larger than 4 GiB (save it with numpy.savez, uncompressed)")
            }
            // Deflate expands at most ~1032:1; a larger declared size is a lie, refused before allocating.
            guard m.size <= 1032 * m.compressedSize + 1024 else { throw bad("declares an impossible size") }
            out = Data(count: m.size)
            let status = out.withUnsafeMutableBytes { dst in inflateRaw(body, into: dst) }
            switch status {
            case .ok: break
            case .truncated: throw bad("is truncated")
            case .corrupt: throw bad("is not valid deflate data")
            }
        default: throw bad("uses zip compression method \(m.method) (only stored and deflate)")
        }
        let crc = out.withUnsafeBytes { b in
            crc32_z(0, b.bindMemory(to: Bytef.self).baseAddress, z_size_t(b.count))
        }
        guard UInt32(crc) == m.crc else { throw bad("fails its CRC-32 check") }
        return out
    }

    enum InflateStatus { case ok, truncated, corrupt }

    /// Inflates raw deflate data (no zlib header, as zip stores it) into exactly `dst.count` bytes.
    static func inflateRaw(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) -> InflateStatus {
        // zlib wants non-null pointers even for empty buffers.
        guard let input = src.baseAddress, src.count > 0 else { return .truncated }
        var scratch: UInt8 = 0
        return withUnsafeMutablePointer(to: &scratch) { one in
            var z = z_stream()
            guard inflateInit2_(&z, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                return .corrupt
            }
            defer { inflateEnd(&z) }
            z.next_in = UnsafeMutablePointer(mutating: input.assumingMemoryBound(to: Bytef.self))
            z.avail_in = uInt(src.count)
            z.next_out = dst.baseAddress?.assumingMemoryBound(to: Bytef.self) ?? one
            z.avail_out = uInt(dst.count)
            let r = inflate(&z, Z_FINISH)
            if r == Z_STREAM_END { return z.total_out == dst.count ? .ok : .corrupt }
            if r == Z_BUF_ERROR && z.avail_in == 0 { return .truncated }
            return r == Z_BUF_ERROR || r == Z_DATA_ERROR || r == Z_STREAM_ERROR ? .corrupt : .truncated
        }
    }

    /// Decodes array `array` of the archive bytes `data`.
    /// - Throws: `AttnError.usage` naming the file and member for every malformed case, or the
    ///   missing name (listing those present).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func decode<T: AttnScalar>(_ data: Data, array: String, name: String, as: T.Type = T.self) throws
        -> (Tensor<T>, StorageType)
    {
        let member: Data = try data.withUnsafeBytes { raw in
            let ms = try members(raw, name: name)
            guard let m = ms.first(where: { $0.name == array }) else {
                let names = ms.map(\.name).sorted().joined(separator: ", ")
                throw AttnError.usage(
                    "\(name): no array named '\(array)' (the archive has: \(names.isEmpty ? "none" : names))")
            }
            return try contents(of: m, in: raw, name: name)
        }
        let label = "\(name):\(array)"
        let tensor: Tensor<T> = try Npy.decode(member, name: label)
        let dtype = try member.withUnsafeBytes { try Npy.parseHeader($0, name: label).0.dtype }
        return (tensor, StorageType(npy: dtype))
    }
}

extension StorageType {
    /// The storage type of a `.npy` dtype.
    package init(npy: Npy.DType) {
        switch npy {
        case .float16: self = .float16
        case .float32: self = .float32
        case .float64: self = .float64
        }
    }
}
