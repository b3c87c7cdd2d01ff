import ArgumentParser
import AttnCore

/// `attnbound certified` (stub until its issue lands).
struct BenchCertifiedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certified",
        abstract: "Time certified attention: n = 256, d = 16, 256 bits, scale 1/√d.")

    func run() throws {
        throw AttnError.infeasible("'certified' is not implemented yet")
    }
}
