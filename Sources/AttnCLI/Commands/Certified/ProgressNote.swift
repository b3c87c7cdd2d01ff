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
