import ArgumentParser
import AttnCore

/// `attnbound lite` (stub until its issue lands).
struct LiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lite",
        abstract: "LiteAttention temporal tile skipping over a diffusion-like trajectory.")

    func run() throws {
        throw AttnError.infeasible("'lite' is not implemented yet")
    }
}
