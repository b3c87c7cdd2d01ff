import AttnBlockSparse
import AttnCore

/// The figure and the one-line summary of `lite calibrate`.
extension LiteCalibrationResult {
    /// Skipped tiles (second half of the steps) against the largest per-step error: the constant
    /// thresholds as a curve, the calibrated schedule highlighted, the target as a dashed line.
    public func paretoSVG(metric: LiteErrorMetric, target: Double) throws -> String {
        let pts = pareto.filter { $0.threshold != nil }.map {
            ParetoPlot.Point(x: $0.maxError(metric), y: $0.secondHalfSkippedFraction, label: CSV.number($0.threshold!))
        }
        let cal = pareto.last!
        return try ParetoPlot.svg(
            title: "LiteAttention: skipped tiles vs error (\(steps.count) steps)",
            note: "blue: constant thresholds (label = thr); red: the calibrated schedule; dashed: target",
            xLabel: "largest per-step error (\(metric.rawValue))", yLabel: "skipped fraction, second half of the steps",
            curve: pts,
            highlight: [.init(x: cal.maxError(metric), y: cal.secondHalfSkippedFraction, label: "calibrated")],
            vline: (target, "target"))
    }

    /// What was reached, e.g. "12 steps, target max-abs ≤ 0.01: skipped 40.0% of tiles (…), …".
    public func summary(metric: LiteErrorMetric, target: Double) -> String {
        let cal = pareto.last!, pct = { (x: Double) in TextFormat.fixed(100 * x) }
        return
            "\(steps.count) steps, target \(metric.rawValue) ≤ \(target): skipped \(pct(cal.skippedFraction))% of tiles "
            + "(\(pct(cal.secondHalfSkippedFraction))% over the second half), largest step error \(cal.maxError(metric)), "
            + "\(repairs) repairs"
    }
}
