import Foundation
import Synchronization

/// Progress of a long loop over rows for a person watching: once the run has lasted 2 s, at
/// most one line every 2 s (and one at the end), "label: rows done/total, ETA s".
public enum RowProgress {
    /// A `(done, total)` callback, safe to call from worker threads, that passes its lines to `note`.
    public static func throttled(_ label: String, note: @escaping @Sendable (String) -> Void)
        -> @Sendable (
            Int, Int
        ) -> Void
    {
        let start = Date()
        let last = Mutex<Double>(0)
        return { done, total in
            let t = Date().timeIntervalSince(start)
            let due = last.withLock { l in
                guard t >= 2, t - l >= 2 || done == total else { return false }
                l = t
                return true
            }
            guard due, done > 0 else { return }
            let eta = t * Double(total - done) / Double(done)
            note(String(format: "%@: rows %d/%d, ETA %.0f s", label, done, total, eta))
        }
    }
}
