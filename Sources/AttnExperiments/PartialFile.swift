import AttnCore
import Foundation

/// The crash-safe log of finished points (`<stem>.csv.partial`).
///
/// Layout: one header line naming the configuration's fingerprint, then one
/// record per finished point, in completion order:
///
///     <point index> TAB <row count> TAB <csv line> TAB … TAB <checksum> LF
///
/// The checksum is FNV-1a 64 of everything before it. A record is appended
/// with one `write` and counts only once its LF is on disk, so a process
/// killed at any moment leaves at worst a torn last record, which `load`
/// drops (and truncates away) before appending resumes.
public enum PartialFile {
    /// v2: rows carry `c` and `measured_error`. A v1 file is refused on resume (its records would
    /// mix two layouts in one CSV).
    static let magic = "# attnbound sweep partial v2"

    static func headerLine(fingerprint: String, backend: String, shard: Shard) -> String {
        "\(magic) fingerprint=\(fingerprint) backend=\(backend) shard=\(shard.index)/\(shard.count)\n"
    }

    static func checksum<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    /// One record line for point `index` with CSV lines `lines` (each ending in LF).
    static func record(index: Int, lines: [String]) -> String {
        let body = ([String(index), String(lines.count)] + lines.map { String($0.dropLast()) }).joined(separator: "\t")
        return body + "\t" + checksum(body.utf8) + "\n"
    }

    /// The valid records of a partial file: point index → its CSV lines, and
    /// the byte length of the valid prefix (header + intact records).
    ///
    /// - Throws: `AttnError.usage` if the header is missing or names another
    ///   configuration, backend or shard.
    static func load(_ url: URL, expectedHeader: String) throws -> (records: [Int: [String]], validLength: Int) {
        let data = try Data(contentsOf: url)
        let bytes = [UInt8](data)
        let header = Array(expectedHeader.utf8)
        // Killed before the header was complete: nothing was recorded yet.
        if bytes.count < header.count && header.starts(with: bytes) { return ([:], 0) }
        guard bytes.starts(with: header) else {
            throw AttnError.usage(
                .resume,
                "\(url.path) was written by a sweep with other parameters (or is not a sweep partial file); start over without resuming"
            )
        }
        var records: [Int: [String]] = [:]
        var start = header.count, valid = header.count
        while let lf = bytes[start...].firstIndex(of: 0x0A) {
            guard let rec = parse(bytes[start..<lf]) else { break }  // corrupt: stop, drop the rest
            records[rec.index] = rec.lines
            start = lf + 1
            valid = start
        }
        return (records, valid)
    }

    private static func parse(_ line: ArraySlice<UInt8>) -> (index: Int, lines: [String])? {
        guard let tab = line.lastIndex(of: 0x09) else { return nil }
        let body = line[line.startIndex..<tab]
        guard String(decoding: line[(tab + 1)...], as: UTF8.self) == checksum(body) else { return nil }
        let fields = String(decoding: body, as: UTF8.self).split(separator: "\t", omittingEmptySubsequences: false)
        guard fields.count >= 2, let index = Int(fields[0]), let count = Int(fields[1]), index >= 0,
            fields.count == 2 + count
        else { return nil }
        return (index, fields.dropFirst(2).map { String($0) + "\n" })
    }
}

/// Appends records to a partial file; one `write` per record, then the OS has it.
/// Lock-protected: the lock is the only path to the descriptor.
final class PartialWriter: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()

    /// Opens `url` for appending after truncating it to `length` bytes; with
    /// `length == 0` the file is created fresh and `header` written first.
    init(url: URL, header: String, keepingPrefix length: Int) throws {
        let flags = O_WRONLY | O_CREAT | (length == 0 ? O_TRUNC : 0)
        fd = open(url.path, flags, 0o644)
        guard fd >= 0 else { throw AttnError.usage("\(url.path): cannot open for writing") }
        if length == 0 {
            try writeAll(header)
        } else {
            guard ftruncate(fd, off_t(length)) == 0, lseek(fd, off_t(length), SEEK_SET) >= 0 else {
                close(fd)
                throw AttnError.usage("\(url.path): cannot truncate the torn record")
            }
        }
    }

    func append(_ record: String) throws {
        lock.lock(); defer { lock.unlock() }
        try writeAll(record)
    }

    private func writeAll(_ text: String) throws {
        var bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let w = bytes.withUnsafeMutableBytes { Foundation.write(fd, $0.baseAddress! + off, $0.count - off) }
            if w < 0 {
                if errno == EINTR { continue }; throw AttnError.usage("partial file: write failed (errno \(errno))")
            }
            off += w
        }
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        fsync(fd)
        close(fd)
    }
}
