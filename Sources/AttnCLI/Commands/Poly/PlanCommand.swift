import ArgumentParser
import AttnCore

/// `attnbound plan` (stub until its issue lands).
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan the polynomial method: degree, rank, flops and memory vs exact, crossover n.")

    func run() throws {
        throw AttnError.infeasible("'plan' is not implemented yet")
    }
}
