import ArgumentParser
import AttnCore

/// `attnbound sweep` (stub until its issue lands).
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run the B = Θ(√log n) threshold experiments into CSV + JSON sidecar + SVG.")

    func run() throws {
        throw AttnError.infeasible("'sweep' is not implemented yet")
    }
}
