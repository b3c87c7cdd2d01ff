import ArgumentParser
import AttnCore

/// `attnbound paged` (stub until its issue lands).
struct BenchPagedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paged",
        abstract: "One decode step at 32k context: each policy vs dense exact decode.")

    func run() throws {
        throw AttnError.infeasible("'paged' is not implemented yet")
    }
}
