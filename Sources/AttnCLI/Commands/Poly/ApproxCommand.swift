import ArgumentParser
import AttnCore

/// `attnbound approx` (stub until its issue lands).
struct ApproxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approx",
        abstract: "Approximate attention (poly, svd, performer, nystrom) with its bound and measured error.")

    func run() throws {
        throw AttnError.infeasible("'approx' is not implemented yet")
    }
}
