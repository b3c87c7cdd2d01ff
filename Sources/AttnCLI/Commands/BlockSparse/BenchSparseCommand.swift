import ArgumentParser
import AttnCore

/// `attnbound sparse` (stub until its issue lands).
struct BenchSparseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparse",
        abstract: "Block-sparse runtime vs skipped fraction; db-SP imbalance before/after.")

    func run() throws {
        throw AttnError.infeasible("'sparse' is not implemented yet")
    }
}
