import AttnCore
import Foundation

extension TieredVerificationReport {
    /// The four lines `verify` prints as text. Every bound is printed rounded
    /// up (`TextFormat.bound`), so the printed number still bounds.
    public var text: String {
        let pct = { (k: Int) in String(format: "%.4g%%", entries == 0 ? 0 : 100 * Double(k) / Double(entries)) }
        let tol =
            rtol == 0
            ? "tolerance \(formatShortest(atol))" : "atol \(formatShortest(atol)), rtol \(formatShortest(rtol))"
        let verdict = passed ? "PASS" : failing > 0 ? "FAIL" : "UNDECIDED"
        return """
            certified max |candidate − truth| ≤ \(TextFormat.bound(maxErrorBound)) at (batch \(batch), head \(head), \
            row \(row), col \(col))
            certified max relative error ≤ \(TextFormat.bound(maxRelErrorBound))
            \(tol): \(verdict)  (\(failing) of \(entries) entries fail (\(pct(failing))), \(undecided) undecided \
            (\(pct(undecided))))
            rows decided: \(rowsFloat) float engine, \(rowsExact) GMP/MPFR, \(rowsUndecided) undecided
            """ + (maskedRows > 0 ? "\nfully masked rows: \(maskedRows) (output 0, LSE −∞, certified exactly)" : "")
                + (lse.map { "\n" + $0.text } ?? "")
    }
}

extension LSEReport {
    /// Two lines: the LSE's certified max error and its verdict.
    public var text: String {
        let verdict = passed ? "PASS" : failing > 0 ? "FAIL" : "UNDECIDED"
        let pct = { (k: Int) in String(format: "%.4g%%", entries == 0 ? 0 : 100 * Double(k) / Double(entries)) }
        return """
            certified max |LSE candidate − LSE| ≤ \(TextFormat.bound(maxErrorBound)) at (batch \(batch), head \(head), \
            row \(row)), base \(base.rawValue)
            LSE atol \(formatShortest(atol)): \(verdict)  (\(failing) of \(entries) rows fail (\(pct(failing))), \
            \(undecided) undecided (\(pct(undecided))))
            """
    }
}
