import AttnCore
import Foundation

/// The yardstick for decode: the machine's copy bandwidth, measured as STREAM's "copy" is (a large
/// buffer copied by `threads` threads, each its own slice; bytes read + bytes written over the time).
/// A decode step only reads K and V, so its rate (bytes read over the time) may approach this figure
/// and, where writes cost more than reads, exceed it.
public final class CopyBandwidth: @unchecked Sendable {
    // Only read (src) or written by disjoint slices (dst) during `rate`; never resized.
    let bytes: Int
    let src: UnsafeMutableRawPointer, dst: UnsafeMutableRawPointer

    /// - Parameter bytes: the buffer size (default 256 MiB: 8× a large L3, so the copy streams from memory).
    public init(bytes: Int = 256 << 20) {
        self.bytes = bytes
        src = .allocate(byteCount: bytes, alignment: 4096)
        dst = .allocate(byteCount: bytes, alignment: 4096)
        src.initializeMemory(as: UInt8.self, repeating: 1, count: bytes)
        dst.initializeMemory(as: UInt8.self, repeating: 2, count: bytes)
    }

    deinit {
        src.deallocate()
        dst.deallocate()
    }

    /// GB/s (10⁹ bytes, read + written) of one copy of the buffer by `threads` threads.
    public func rate(threads: Int) -> Double {
        let n = max(1, threads), slice = (bytes / n) & ~4095
        let t = Timing.seconds {
            Parallel.forEachJob(n, workers: n) { worker in
                while let j = worker.next() {
                    let len = j == n - 1 ? bytes - j * slice : slice
                    memcpy(dst + j * slice, src + j * slice, len)
                }
            }
        }
        return 2 * Double(bytes) / t / 1e9
    }
}
