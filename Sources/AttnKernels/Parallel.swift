import AttnCore
import Dispatch
import Foundation

/// A raw pointer handed to concurrent workers that touch disjoint ranges
/// (or only read). The caller keeps the memory alive for the whole call.
public struct UnsafeSendablePointer<T>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<T>
    public init(_ p: UnsafeMutablePointer<T>) { pointer = p }
    public init(mutating p: UnsafePointer<T>) { pointer = UnsafeMutablePointer(mutating: p) }
}

/// Work distribution over a fixed number of jobs.
///
/// Determinism: which worker runs a job varies, but every job is computed by
/// one worker in a fixed order, so results never depend on the thread count.
public enum Parallel {
    /// A worker's handle: `next()` hands out the next unclaimed job index.
    public struct Worker: Sendable {
        let counter: JobCounter
        let total: Int
        public func next() -> Int? { counter.take(below: total) }
    }

    /// Runs `body` on `workers` threads; each calls `worker.next()` until nil.
    public static func forEachJob(_ jobs: Int, workers: Int, _ body: @Sendable (Worker) -> Void) {
        let w = Worker(counter: JobCounter(), total: jobs)
        let n = max(1, min(workers, jobs))
        if n == 1 { body(w); return }
        DispatchQueue.concurrentPerform(iterations: n) { _ in body(w) }
    }
}

/// Hands out job indices 0, 1, 2, … (lock-protected; the lock is its only mutable state).
final class JobCounter: @unchecked Sendable {
    private var nextJob = 0
    private let lock = NSLock()
    func take(below n: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard nextJob < n else { return nil }
        defer { nextJob += 1 }
        return nextJob
    }
}

/// Q, K, V (read only) and the output (each worker writes its own rows) of one
/// attention call, pinned for the duration of `with` so that concurrent
/// workers can share them. Valid only inside the `with` body.
public struct PinnedAttention<T: AttnScalar>: @unchecked Sendable {
    public let q: UnsafePointer<T>
    public let k: UnsafePointer<T>
    public let v: UnsafePointer<T>
    public let out: UnsafeMutablePointer<T>

    /// Pins the four tensors' storage and runs `body` with their pointers.
    public static func with<R>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, out: inout Tensor<T>,
                               _ body: (PinnedAttention<T>) throws -> R) rethrows -> R {
        try q.storage.withUnsafeBufferPointer { qb in
            try k.storage.withUnsafeBufferPointer { kb in
                try v.storage.withUnsafeBufferPointer { vb in
                    try out.storage.withUnsafeMutableBufferPointer { ob in
                        try body(PinnedAttention(q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!,
                                                 out: ob.baseAddress!))
                    }
                }
            }
        }
    }
}
