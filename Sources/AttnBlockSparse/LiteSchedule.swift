import AttnCore

/// A threshold per denoising step for LiteAttention (log₂ units, as `LiteConfig.threshold`):
/// `thresholds[t]` decides, at step t, which tiles are skipped from step t + 1 on.
///
/// File form (what `LiteCalibration` writes and `attnbound lite --thr-schedule` reads): a CSV with
/// the header `step,thr` and one row per step t = 0, 1, …, T − 1 in order; `thr` is a decimal,
/// `-inf` (never skip) or `inf`.
public struct LiteSchedule: Sendable, Equatable {
    public var thresholds: [Double]

    /// - Precondition: no threshold is NaN.
    public init(thresholds: [Double]) {
        precondition(!thresholds.contains(where: \.isNaN))
        self.thresholds = thresholds
    }

    /// True when thresholds never decrease from one step to the next (stricter early, as LiteAttention
    /// calibrates Wan2.1).
    public var isNonDecreasing: Bool { zip(thresholds, thresholds.dropFirst()).allSatisfy { $0 <= $1 } }

    /// The CSV text.
    public var csv: String {
        CSV.row(["step", "thr"])
            + thresholds.enumerated().map { CSV.row([String($0.offset), CSV.number($0.element)]) }.joined()
    }

    /// Parses the CSV text.
    /// - Throws: `AttnError.usage` naming the line at fault (bad header, a step out of order,
    ///   a threshold that is not a number, NaN, no rows).
    public init(csv text: String) throws {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let header = lines.first, CSV.parseRow(header) == ["step", "thr"] else {
            throw AttnError.usage("line 1: expected the header 'step,thr'")
        }
        var out: [Double] = []
        for (i, line) in lines.dropFirst().enumerated() {
            let f = CSV.parseRow(line)
            guard f.count == 2, let step = Int(f[0]) else {
                throw AttnError.usage("line \(i + 2): expected 'step,thr'")
            }
            guard step == out.count else {
                throw AttnError.usage("line \(i + 2): step \(step), expected \(out.count) (steps in order from 0)")
            }
            let thr: Double
            switch f[1].lowercased() {
            case "-inf", "-infinity": thr = -.infinity
            case "inf", "+inf", "infinity": thr = .infinity
            default:
                guard let x = Double(f[1]), x.isFinite else {
                    throw AttnError.usage("line \(i + 2): threshold '\(f[1])' is not a number")
                }
                thr = x
            }
            out.append(thr)
        }
        guard !out.isEmpty else { throw AttnError.usage("no steps after the header") }
        thresholds = out
    }
}
