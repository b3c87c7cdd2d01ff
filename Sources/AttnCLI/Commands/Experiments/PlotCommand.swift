import ArgumentParser
import AttnCore

/// `attnbound plot` (stub until its issue lands).
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a sweep CSV as an SVG figure.")

    func run() throws {
        throw AttnError.infeasible("'plot' is not implemented yet")
    }
}
