import CBLASCore
import CLapack
import Foundation

/// OpenBLAS thread control. OpenBLAS's thread count is one process-wide
/// setting, and changing it costs a reconfiguration of its pool, so it is
/// changed rarely: our kernels parallelise over tiles themselves and run BLAS
/// single-threaded (*shared* sections, any number at once; the first one in
/// the process sets 1 thread, and it stays so). An *exclusive* section
/// (`with(threads:)`, e.g. the sgemm yardstick) waits until no shared section
/// runs, uses its own count, and returns OpenBLAS to 1 thread.
///
/// OpenBLAS's pool is stopped when the library loads (before any BLAS call). When the first shared section
/// then sets 1 thread, OpenBLAS starts a fresh pool, which no one can be using yet, and it is stopped again
/// (`attnbound_blas_release_idle_threads`): its threads would otherwise spin for about 0.1 s beside our own
/// workers. A pool that threaded calls have used is left alone: stopping it under another thread's call would
/// hang that call's threads. OpenBLAS restarts a stopped pool itself at its next threaded call.
package enum BLASThreads {
    private final class State: @unchecked Sendable {
        // Mutated only under `condition`.
        let condition = NSCondition()
        var sharedDepth = 0
        var singleThreaded = false
        var exclusiveOwner: pthread_t?
    }
    private static let state = State()

    package static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
        let st = state
        st.condition.lock()
        if let owner = st.exclusiveOwner, pthread_equal(owner, pthread_self()) != 0 {
            // Nested in this thread's own exclusive section: its thread count stands.
            st.condition.unlock()
            return try body()
        }
        while st.exclusiveOwner != nil { st.condition.wait() }
        if !st.singleThreaded {
            let usedPool = attnbound_blas_pool_running() != 0
            openblas_set_num_threads(1)
            if !usedPool { attnbound_blas_release_idle_threads() }  // the pool set_num_threads just started
            st.singleThreaded = true
        }
        st.sharedDepth += 1
        st.condition.unlock()
        defer {
            st.condition.lock()
            st.sharedDepth -= 1
            if st.sharedDepth == 0 { st.condition.broadcast() }
            st.condition.unlock()
        }
        return try body()
    }

    /// Runs `body` with OpenBLAS using `threads` threads, exclusively; OpenBLAS
    /// is single-threaded afterwards.
    package static func with<R>(threads: Int, _ body: () throws -> R) rethrows -> R {
        let st = state
        st.condition.lock()
        while st.exclusiveOwner != nil || st.sharedDepth > 0 { st.condition.wait() }
        st.exclusiveOwner = pthread_self()
        openblas_set_num_threads(Int32(threads))
        st.condition.unlock()
        defer {
            st.condition.lock()
            openblas_set_num_threads(1)
            st.singleThreaded = true
            st.exclusiveOwner = nil
            st.condition.broadcast()
            st.condition.unlock()
        }
        return try body()
    }
}
