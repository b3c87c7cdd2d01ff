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

    @Option(name: [.customLong("out"), .short], help: "Merged CSV (its sidecar goes next to it, same stem, .json).")
    var out: String?

    @Option(name: .customLong("output"), help: .hidden)
    var legacyOutput: String?

    /// The path to write (`--out`, or the hidden former `--output`).
    var output: String { out ?? legacyOutput ?? "" }

    func validate() throws {
        guard try resolvedOutput(out, legacy: legacyOutput, legacyFlag: "--output") != nil else {
            throw ValidationError("missing --out")
        }
        if inputs.isEmpty { throw ValidationError("merge: give the shard CSVs to merge") }
        guard output.hasSuffix(".csv") else { throw ValidationError("--out \(output): must end in .csv") }
        try validateOutputPath(output, flag: "--out")
    }

    func run() throws {
        for p in inputs where !FileManager.default.fileExists(atPath: p) {
            throw AttnError.usage("\(p): no such file")
        }
        let text = try SweepMerge.merge(
            inputs.map { URL(fileURLWithPath: $0) }, into: URL(fileURLWithPath: output),
            version: Attnbound.version)
        let rows = text.split(separator: "\n").count - 1
        print("merged \(inputs.count) shard\(inputs.count == 1 ? "" : "s") into \(output) (\(rows) rows)")
    }
}
