import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `.npy` files read and written without an intermediate copy, for the common case: the data stored in the
/// tensor's own type, in C order and the host's byte order.
///
/// Why: a [32, 8192, 128] float32 query file is 134 MB. Read as `Data` and then decoded, it was faulted into
/// memory twice and copied twice; written through `encode`, once more. On the `attention` process of such a
/// layer that was a tenth of the wall time, on one core while the other idled. Here the bytes go from the file
/// straight into the tensor's storage (one `pread` copy) and from the storage straight into the file.
///
/// Everything else (other dtypes, byte orders, Fortran order, malformed files) goes through `decode` and
/// `encode`, whose checks and messages stand: these functions return nil or defer rather than judge a file.
extension Npy {
    /// The tensor stored at `path`, read directly into its storage, with the file's dtype; nil when the file
    /// is not a well-formed `.npy` of exactly `T`'s format in C order and host byte order, or cannot be opened
    /// (the general reader then decodes it and reports any problem).
    /// - Throws: `AttnError.usage` naming the file when reading fails part-way.
    package static func readNative<T: AttnScalar>(_ path: String, as: T.Type = T.self) throws -> (Tensor<T>, DType)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let size = Int(st.st_size)
        // magic (6), version (2), header length (2 in version 1, 4 after): the data starts past the header.
        var prefix = [UInt8](repeating: 0, count: 12)
        guard size >= 12, readFully(fd, &prefix, at: 0), Array(prefix[0..<6]) == magic else { return nil }
        let headerEnd: Int
        switch prefix[6] {
        case 1: headerEnd = 10 + Int(prefix[8]) | Int(prefix[9]) << 8
        case 2, 3:
            headerEnd = 12 + (Int(prefix[8]) | Int(prefix[9]) << 8 | Int(prefix[10]) << 16 | Int(prefix[11]) << 24)
        default: return nil
        }
        guard headerEnd <= min(size, 1 << 20) else { return nil }
        var head = [UInt8](repeating: 0, count: headerEnd)
        guard readFully(fd, &head, at: 0) else { return nil }
        guard let (header, offset) = try? head.withUnsafeBytes({ try parseHeader($0, name: path) }) else { return nil }
        let native = header.bigEndian == (1.bigEndian == 1)
        let dtype: DType = T.self == Float.self ? .float32 : .float64
        guard native, !header.fortranOrder, header.dtype == dtype, T.self == Float.self || T.self == Double.self,
            (1...4).contains(header.shape.count),
            let count = try? elementCount(header.shape, name: path)
        else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.itemSize)
        guard !overflow, size - offset == bytes else { return nil }
        let values = try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard count == 0 || readFully(fd, UnsafeMutableRawPointer(buffer.baseAddress!), count: bytes, at: offset)
            else {
                throw AttnError.usage("\(path): cannot read file")
            }
            initialized = count
        }
        return (tensor(values, shape: header.shape), dtype)
    }

    /// Writes `t` as a `.npy` of its own type (float32 or float64, little-endian, C order) with `AtomicFile`:
    /// the header, then the storage's bytes as they are; nil (nothing written) on a big-endian host.
    package static func writeNative<T: AttnScalar>(_ t: Tensor<T>, to path: String) throws -> Void? {
        guard 1.littleEndian == 1, T.self == Float.self || T.self == Double.self else { return nil }
        let head = Data(headerBytes(t, dtype: T.self == Float.self ? .float32 : .float64))
        try head.withUnsafeBytes { h in
            try t.storage.withUnsafeBytes { body in
                try AtomicFile.write([h, body], to: URL(fileURLWithPath: path))
            }
        }
        return ()
    }

    /// Reads `count` bytes at file offset `at` into `into`; false on an error or end of file.
    private static func readFully(_ fd: Int32, _ into: UnsafeMutableRawPointer, count: Int, at: Int) -> Bool {
        FileIO.read(fd, into: into, count: count, at: at)
    }

    private static func readFully(_ fd: Int32, _ into: inout [UInt8], at: Int) -> Bool {
        let n = into.count
        return into.withUnsafeMutableBytes { readFully(fd, $0.baseAddress!, count: n, at: at) }
    }
}
