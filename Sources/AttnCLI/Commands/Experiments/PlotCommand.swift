import ArgumentParser
import AttnCore
import AttnExperiments
import Foundation

/// `attnbound plot`: a sweep CSV as an SVG figure (two panels per experiment).
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a sweep CSV as an SVG figure.",
        discussion: "Per experiment: the metric against B and against B/√ln n, one curve per n (log y for errors and ranks).")

    @Argument(help: "A CSV written by `attnbound sweep` or `attnbound merge`.")
    var csv: String

    @Option(name: [.short, .customLong("output")], help: "The SVG to write.")
    var output: String

    func validate() throws {
        guard output.hasSuffix(".svg") else { throw ValidationError("--output \(output): must end in .svg") }
        try validateOutputPath(output, flag: "--output")
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: csv) else { throw AttnError.usage("\(csv): cannot read") }
        let table = try SweepTable(csv: String(decoding: data, as: UTF8.self), source: csv)
        let svg = try SweepPlot.svg(table)
        try AtomicFile.write(svg, to: URL(fileURLWithPath: output))
        print("wrote \(output) (\(table.experiments.map(\.rawValue).joined(separator: ", ")))")
    }
}
