import AttnCore
import AttnKernels
import Foundation

/// Writes the table of `report` as CSV with its JSON sidecar at `path`, printing nothing: a
/// command's second table (`dbsp plan --ranks-out`, `lite calibrate --pareto-out`), the
/// first being written by `emit`.
func writeTable(_ report: RunReport, to path: String) throws {
    guard let table = report.table else { return }
    let sidecar = Sidecar(
        command: report.command, parameters: report.parameters, seed: report.seed, argv: CommandLine.arguments,
        extra: report.sidecarExtra)
    try sidecar.write(csv: table.csv, to: URL(fileURLWithPath: path))
}
