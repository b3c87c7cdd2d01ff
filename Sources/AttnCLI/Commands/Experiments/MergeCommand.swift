import ArgumentParser
import AttnCore
import AttnExperiments
import Foundation

/// `attnbound merge`: joins `--shard` outputs into the file one run writes.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge shard outputs of a sweep into the file one run would write.",
        discussion: "Each input CSV needs its JSON sidecar next to it. All N shards must be given once each.")

    @Argument(help: "Shard CSVs written by `attnbound sweep --shard i/N`.")
    var inputs: [String] = []

    @Option(name: [.short, .customLong("output")], help: "Merged CSV (its sidecar goes next to it, same stem, .json).")
    var output: String

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("merge: give the shard CSVs to merge") }
        guard output.hasSuffix(".csv") else { throw ValidationError("--output \(output): must end in .csv") }
        try validateOutputPath(output, flag: "--output")
    }

    func run() throws {
        for p in inputs where !FileManager.default.fileExists(atPath: p) {
            throw AttnError.usage("\(p): no such file")
        }
        let text = try SweepMerge.merge(inputs.map { URL(fileURLWithPath: $0) }, into: URL(fileURLWithPath: output),
                                        version: Attnbound.version)
        let rows = text.split(separator: "\n").count - 1
        print("merged \(inputs.count) shard\(inputs.count == 1 ? "" : "s") into \(output) (\(rows) rows)")
    }
}
