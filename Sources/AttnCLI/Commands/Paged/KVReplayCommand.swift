import ArgumentParser
import AttnCore

/// `attnbound kv-replay` (stub until its issue lands).
struct KVReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv-replay",
        abstract: "Replay decode steps over a paged KV cache with a selection policy.")

    func run() throws {
        throw AttnError.infeasible("'kv-replay' is not implemented yet")
    }
}
