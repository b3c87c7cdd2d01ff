import ArgumentParser
import AttnCore

/// `attnbound merge` (stub until its issue lands).
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge shard outputs of a sweep into the file one run would write.")

    func run() throws {
        throw AttnError.infeasible("'merge' is not implemented yet")
    }
}
