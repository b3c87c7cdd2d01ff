import ArgumentParser
import AttnCore

/// `attnbound dbsp` (stub until its issue lands).
struct DbspCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dbsp",
        abstract: "db-SP balanced sequence-parallel planning.")

    func run() throws {
        throw AttnError.infeasible("'dbsp' is not implemented yet")
    }
}
