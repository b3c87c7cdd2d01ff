import ArgumentParser
import AttnCore

/// `attnbound poly` (stub until its issue lands).
struct BenchPolyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poly",
        abstract: "Polynomial method time vs n (d = 4, B = 1, ε = 1e-6) beside the fast exact kernel.")

    func run() throws {
        throw AttnError.infeasible("'poly' is not implemented yet")
    }
}
