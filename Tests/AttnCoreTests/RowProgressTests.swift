import AttnCore
import Synchronization
import Testing

/// `RowProgress.throttled`: a run shorter than 2 s prints nothing (the time-dependent lines
/// are left to `attnbound verify` runs; no test waits on a clock).
@Suite struct RowProgressTests {
    @Test func shortRunsAreQuiet() {
        let lines = Mutex<[String]>([])
        let progress = RowProgress.throttled("verify") { line in lines.withLock { $0.append(line) } }
        for done in 1...100 { progress(done, 100) }
        #expect(lines.withLock { $0.isEmpty })
    }
}
