import AttnCore
import Foundation

extension RegimeReport {
    /// The table `regime` prints as text: one line per (batch/head, scale), then the summary.
    public var table: String {
        func col(_ s: String, _ w: Int) -> String { s.padding(toLength: max(w, s.count), withPad: " ", startingAt: 0) }
        func g3(_ x: Double) -> String { String(format: "%.3g", x) }
        var lines = [
            ["batch/head", "scale", "n", "d", "B", "c", "R", "max|s·q·k|", "degree", "rank", "exponent", "poly from n"]
                .map { col($0, 10) }.joined(separator: " ")
        ]
        for h in heads {
            for a in h.scales {
                lines.append(
                    [
                        "\(h.batch)/\(h.head)", a.scale.description, "\(h.keys)", "\(h.d)", g3(h.entryBound), g3(h.c),
                        g3(a.radius), String(format: "%.4g", a.maxAbsScore), a.degree.map(String.init) ?? "none",
                        g3(a.rank), String(format: "%.3f", a.exponent), (a.polyWins ? "wins " : "") + g3(a.crossoverN),
                    ]
                    .map { col($0, 10) }.joined(separator: " "))
            }
        }
        return (lines + summaryLines.map { "summary: " + $0 }).joined(separator: "\n")
    }
}
