import AttnCore
import Dispatch
import Foundation

/// A raw pointer handed to concurrent workers that touch disjoint ranges
/// (or only read). The caller keeps the memory alive for the whole call.
package struct UnsafeSendablePointer<T>: @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<T>
    package init(_ p: UnsafeMutablePointer<T>) { pointer = p }
    package init(mutating p: UnsafePointer<T>) { pointer = UnsafeMutablePointer(mutating: p) }
}

/// Work distribution over a fixed number of jobs.
///
/// Determinism: which worker runs a job varies, but every job is computed by
/// one worker in a fixed order, so results never depend on the thread count.
package enum Parallel {
    /// A worker's handle: `next()` hands out the next unclaimed job index.
    package struct Worker: Sendable {
        let counter: JobCounter
        let total: Int
        package func next() -> Int? { counter.take(below: total) }
    }

    /// Runs `body` on `workers` threads; each calls `worker.next()` until nil.
    package static func forEachJob(_ jobs: Int, workers: Int, _ body: @Sendable (Worker) -> Void) {
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
package struct PinnedAttention<T: AttnScalar>: @unchecked Sendable {
    package let q: UnsafePointer<T>
    package let k: UnsafePointer<T>
    package let v: UnsafePointer<T>
    package let out: UnsafeMutablePointer<T>

    /// Pins the four tensors' storage and runs `body` with their pointers.
    package static func with<R>(
        q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, out: inout Tensor<T>,
        _ body: (PinnedAttention<T>) throws -> R
    ) rethrows -> R {
        try q.storage.withUnsafeBufferPointer { qb in
            try k.storage.withUnsafeBufferPointer { kb in
                try v.storage.withUnsafeBufferPointer { vb in
                    try out.withUnsafeMutableBufferPointer { ob in
                        try body(
                            PinnedAttention(
                                q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!,
                                out: ob.baseAddress!))
                    }
                }
            }
        }
    }
}
