import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whole-range file reads and writes at an offset, the large ones split across cores.
///
/// Why split: reading a 134 MB tensor into fresh memory, or writing one into the page cache, is bound by one
/// core's page faults and copies (about 1 GB/s here), not by the file system; `attention` did it on one core
/// while the other idled, before and after the kernel. Chunks of at least 16 MiB, at most one per core (≤ 4).
package enum FileIO {
    static let chunkBytes = 16 << 20

    /// Reads `count` bytes at file offset `at` into `into`; false on an error or a short file.
    package static func read(_ fd: Int32, into: UnsafeMutableRawPointer, count: Int, at: Int) -> Bool {
        let base = Int(bitPattern: into)  // an address: each chunk writes its own bytes
        let ok = split(count) { lo, hi in
            readRange(fd, UnsafeMutableRawPointer(bitPattern: base)! + lo, count: hi - lo, at: at + lo) ? 0 : EIO
        }
        return ok == 0
    }

    /// Writes `count` bytes from `from` at file offset `at`; 0, or the errno of a failure.
    package static func write(_ fd: Int32, from: UnsafeRawPointer, count: Int, at: Int) -> Int32 {
        let base = Int(bitPattern: from)  // an address: each chunk reads its own bytes
        return split(count) { lo, hi in
            let from = UnsafeRawPointer(bitPattern: base)!
            var done = lo
            while done < hi {
                let r = pwrite(fd, from + done, hi - done, off_t(at + done))
                if r < 0 && errno == EINTR { continue }
                guard r > 0 else { return r == 0 ? EIO : errno }
                done += r
            }
            return 0
        }
    }

    private static func readRange(_ fd: Int32, _ into: UnsafeMutableRawPointer, count: Int, at: Int) -> Bool {
        var done = 0
        while done < count {
            let r = pread(fd, into + done, count - done, off_t(at + done))
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { return false }
            done += r
        }
        return true
    }

    /// Runs `body` on [lo, hi) ranges covering [0, count), in parallel when large; the first nonzero result.
    private static func split(_ count: Int, _ body: @escaping @Sendable (Int, Int) -> Int32) -> Int32 {
        let chunks = min(4, ProcessInfo.processInfo.activeProcessorCount, max(1, count / chunkBytes))
        if chunks == 1 { return body(0, count) }
        let results = UnsafeMutableBufferPointer<Int32>.allocate(capacity: chunks)
        defer { results.deallocate() }
        let out = SendableResults(results.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            out.pointer[c] = body(c * count / chunks, (c + 1) * count / chunks)
        }
        return results.first { $0 != 0 } ?? 0
    }

    private struct SendableResults: @unchecked Sendable {  // each chunk writes its own slot
        let pointer: UnsafeMutablePointer<Int32>
        init(_ p: UnsafeMutablePointer<Int32>) { pointer = p }
    }
}
