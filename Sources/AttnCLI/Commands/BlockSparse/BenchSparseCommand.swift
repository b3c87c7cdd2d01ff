import ArgumentParser
import AttnBlockSparse
import AttnCore
import Foundation

/// `attnbound bench sparse`: prints `SparseBenchmark`'s report (the library does the timing).
struct BenchSparseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparse",
        abstract: "Block-sparse runtime vs skipped fraction; db-SP imbalance before/after.")

    @OptionGroup var options: BenchOptions

    @Option(help: "Sequence length n (n_q = n_k = n).") var n = 16384
    @Option(help: "Head dimension d.") var d = 64
    @Option(help: "Rows per q-tile of the block-sparse kernel.") var qTile = 256
    @Option(help: "Keys per k-tile of the block-sparse kernel.") var kTile = 512
    @OptionGroup var threadsOption: ThreadsOption
    @Option(help: "Seed of the inputs and masks.") var seed: UInt64 = 42

    func validate() throws {
        guard (1...65536).contains(n), (1...1024).contains(d) else {
            throw ValidationError("--n in 1...65536, --d in 1...1024")
        }
        guard (1...4096).contains(qTile), (1...4096).contains(kTile) else {
            throw ValidationError("--q-tile, --k-tile in 1...4096")
        }
    }

    func run() throws {
        options.printBLAS()
        var s = SparseBenchmark.Setup()
        (s.n, s.d, s.queryTile, s.keyTile, s.threads, s.runs, s.seed) =
            (n, d, qTile, kTile, threadsOption.count, options.runs, seed)
        if !options.json {
            printNote("bench sparse: seed \(seed), n = \(n), d = \(d), tiles \(qTile)×\(kTile), \(s.threads) threads")
        }
        let report = try SparseBenchmark.run(s)
        print(options.json ? report.json.serialized() : report.text)
    }
}
