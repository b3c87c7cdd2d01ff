import ArgumentParser
import AttnCore

/// `attnbound vectors` (stub until its issue lands).
struct VectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors",
        abstract: "Write certified conformance vectors (inputs, certified lo/hi, JSON description).")

    func run() throws {
        throw AttnError.infeasible("'vectors' is not implemented yet")
    }
}
