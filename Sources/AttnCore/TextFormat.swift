import Foundation

/// Numbers for human-readable tables (the `--json` and CSV outputs use `formatShortest`).
public enum TextFormat {
    /// Fixed point with `digits` decimals, e.g. "12.3".
    public static func fixed(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }

    /// Three significant digits ("%.3g"); "nan", "inf", "-inf" for non-finite numbers.
    public static func sci(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return String(format: "%.3g", x)
    }

    /// A bound printed so that it still bounds: 3 significant digits, rounded up
    /// (e.g. 1.2345e-7 → "1.24e-07"). Non-positive and non-finite values print as
    /// `formatShortest`. Checked by `TextFormatTests`.
    public static func bound(_ x: Double) -> String {
        guard x.isFinite, x > 0 else { return formatShortest(x) }
        let exponent = Int(floor(log10(x)))
        let unit = pow(10.0, Double(exponent - 2))
        let m = (x / unit).rounded(.down) + 1  // the +1 dwarfs any rounding in x/unit and in the printing
        return String(format: "%.2fe%+03d", m / 100, exponent)
    }
}
