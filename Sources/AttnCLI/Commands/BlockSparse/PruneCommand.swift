import ArgumentParser
import AttnCore

/// `attnbound prune` (stub until its issue lands).
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "VisiPruner-style token pruning operators.")

    func run() throws {
        throw AttnError.infeasible("'prune' is not implemented yet")
    }
}
