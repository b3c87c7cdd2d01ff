import ArgumentParser
import AttnKernels
import Foundation

/// `attnbound bench …`: speed figures as ratios against a yardstick measured
/// in the same run (medians of several runs).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks, reported as ratios against a yardstick measured in the same run.",
        subcommands: [
            BenchExactCommand.self,
            BenchCertifiedCommand.self,
            BenchPolyCommand.self,
            BenchPagedCommand.self,
            BenchSparseCommand.self,
        ])
}

/// Options every benchmark shares.
struct BenchOptions: ParsableArguments {
    @Option(help: "Timed runs per figure; the median is reported.")
    var runs: Int = 5

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    /// The BLAS line every benchmark prints (CONVENTIONS.md), and the warning
    /// on stderr when BLAS runs on a generic core; JSON output carries `blas` instead.
    func printBLAS() {
        let info = BLASInfo.current
        if let w = info.warning { FileHandle.standardError.write(Data((w + "\n").utf8)) }
        if !json { print(info.summary) }
    }

    func validate() throws {
        guard (1...1000).contains(runs) else { throw ValidationError("--runs must be in 1...1000") }
    }
}
