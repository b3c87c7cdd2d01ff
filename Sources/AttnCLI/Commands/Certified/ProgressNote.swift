import Foundation
import Synchronization

/// Progress of long certified runs on stderr (every 10 % of the rows), never on stdout.
enum ProgressNote {
    /// A reporter for runs of at least 2²² scores (a few seconds), else nil.
    static func forScores(_ scores: Int) -> (@Sendable (Int, Int) -> Void)? {
        guard scores >= 1 << 22 else { return nil }
        let state = LastDecile()
        return { done, total in
            let decile = done * 10 / max(total, 1)
            let fresh = state.value.withLock { last in
                defer { last = max(last, decile) }
                return decile > last
            }
            if fresh { printNote("certified: \(done)/\(total) rows") }
        }
    }

    private final class LastDecile: Sendable {
        let value = Mutex<Int>(0)
    }
}

extension ProgressNote {
    /// A stderr line at most every 2 s for runs past 2 s: rows done / total and the ETA.
    static func rows(_ label: String) -> @Sendable (Int, Int) -> Void {
        let start = Date()
        let last = Mutex<Double>(0)
        return { done, total in
            let t = Date().timeIntervalSince(start)
            let due = last.withLock { l in
                guard t >= 2, t - l >= 2 || done == total else { return false }
                l = t; return true
            }
            guard due, done > 0 else { return }
            let eta = t * Double(total - done) / Double(done)
            printNote(String(format: "%@: rows %d/%d, ETA %.0f s", label, done, total, eta))
        }
    }
}
