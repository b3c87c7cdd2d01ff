import AttnCore
import Foundation
import Testing

/// ProgressLine: the elapsed/ETA clock, and silence when stderr is not a terminal (as under `swift test`).
struct ProgressLineTests {
    @Test func clockReadsAsSecondsThenMinutes() {
        #expect(ProgressLine.clock(0) == "0s")
        #expect(ProgressLine.clock(59.4) == "59s")
        #expect(ProgressLine.clock(187) == "3m07s")
        #expect(ProgressLine.clock(.nan) == "…")
        #expect(ProgressLine.clock(.infinity) == "…")
    }

    @Test func quietWhenStderrIsNotATerminal() {
        if isatty(2) == 0 { #expect(ProgressLine.make(label: "x") == nil) }
    }
}
