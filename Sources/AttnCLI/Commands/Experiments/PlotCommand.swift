import ArgumentParser
import AttnCore
import AttnExperiments
import Foundation

/// `attnbound plot`: a sweep CSV as an SVG figure (two panels per experiment).
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a sweep CSV as an SVG figure.",
        discussion:
            "Per experiment: the metric against B and against B/√ln n, one curve per n (log y for errors and ranks).")

    @Argument(help: "A CSV written by `attnbound sweep` or `attnbound merge`.")
    var csv: String

    @Option(name: [.customLong("out"), .short], help: "The SVG to write.")
    var out: String?

    @Option(name: .customLong("output"), help: .hidden)
    var legacyOutput: String?

    /// The path to write (`--out`, or the hidden former `--output`).
    var output: String { out ?? legacyOutput ?? "" }

    func validate() throws {
        guard try resolvedOutput(out, legacy: legacyOutput, legacyFlag: "--output") != nil else {
            throw ValidationError("missing --out")
        }
        guard output.hasSuffix(".svg") else { throw ValidationError("--out \(output): must end in .svg") }
        try validateOutputPath(output, flag: "--out")
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: csv) else { throw AttnError.usage("\(csv): cannot read") }
        let table = try SweepTable(csv: String(decoding: data, as: UTF8.self), source: csv)
        let svg = try SweepPlot.svg(table)
        try AtomicFile.write(svg, to: URL(fileURLWithPath: output))
        print("wrote \(output) (\(table.experiments.map(\.rawValue).joined(separator: ", ")))")
    }
}
