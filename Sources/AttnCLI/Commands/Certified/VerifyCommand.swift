import ArgumentParser
import AttnCore

/// `attnbound verify` (stub until its issue lands).
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Certify a candidate attention output: a certified bound on max |candidate − truth|.")

    func run() throws {
        throw AttnError.infeasible("'verify' is not implemented yet")
    }
}
