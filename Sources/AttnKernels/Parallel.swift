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
