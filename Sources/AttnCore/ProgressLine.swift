import Foundation

/// A progress line on stderr ("points done/total, %, elapsed, ETA"), redrawn in
/// place at most 5 times a second. Only when stderr is a terminal: logs and
/// pipes stay quiet. Lock-protected; workers call `update` concurrently.
/// It lives in the library so that every front end and long run shares one.
public final class ProgressLine: @unchecked Sendable {
    private let label: String
    private let start = Timing.now()
    private var last = 0.0
    private var firstFraction: Double?
    private var firstTime = 0.0
    private var drawn = false
    private let lock = NSLock()

    private init(label: String) { self.label = label }

    /// A progress line labelled `label`, or nil when stderr is not a terminal.
    public static func make(label: String) -> ProgressLine? {
        isatty(2) != 0 ? ProgressLine(label: label) : nil
    }

    /// - Parameters: fraction: estimated share of the work done (points weigh by their cost).
    public func update(done: Int, total: Int, fraction: Double) {
        lock.lock(); defer { lock.unlock() }
        let now = Timing.now()
        // The rate is measured from the first finished point on, so resumed work does not count.
        if firstFraction == nil { firstFraction = fraction; firstTime = now }
        guard now - last >= 0.2 || done == total else { return }
        last = now
        let elapsed = now - start
        // ETA from this process's own rate over the estimated work (resumed points cost it nothing).
        let ran = fraction - (firstFraction ?? 0)
        let eta = ran > 0 ? (now - firstTime) / ran * (1 - fraction) : .nan
        let pct = total > 0 ? 100 * done / total : 100
        let line =
            "\r\u{1B}[K\(label): \(done)/\(total) points (\(pct)%), \(Self.clock(elapsed)) elapsed, ETA \(Self.clock(eta))"
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    /// Ends the line (a newline, if anything was drawn).
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// Seconds as "42s" or "3m07s"; "…" when unknown.
    public static func clock(_ s: Double) -> String {
        guard s.isFinite else { return "…" }
        let t = Int(s.rounded())
        return t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
    }
}
