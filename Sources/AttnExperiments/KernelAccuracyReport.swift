import AttnCertified
import AttnCore
import Foundation

/// `verify --report`: the kernel accuracy table across candidates (text, CSV with its sidecar,
/// SVG bar chart), built from the certified results of `VerifyRequest.evaluate` (one shared truth).
///
/// Per candidate, with T its storage type: the certified max error and where, the certified
/// rounding floor max|RN_T(y) − y| (an enclosure), the error/floor ratio (a certified interval),
/// the fractions of entries certifiably correctly rounded / faithful / undecided, and the
/// histograms of |c − y| in ulps of T at |y| and in units of u_T·max_j |v_jc| (`AccuracyTally`).
public enum KernelAccuracyReport {
    /// Runs `request`; with `report`, adds the accuracy table to the text and the CSV table to the
    /// run's report, and writes the SVG bar chart beside `out` (same stem, `.svg`) when given.
    public static func run(
        _ request: VerifyRequest, report: Bool, out: String?, note: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> RunReport {
        let results = try request.evaluate(note: note)
        var run = request.report(results)
        guard report || out != nil else { return run }
        run.text.insert(contentsOf: text(results), at: 0)
        run.table = table(results)
        run.parameters = parameters(request)
        run.sidecarExtra = [("candidates", .array(results.map { .object($0.jsonFields) }))]
        if let out {
            let svg = URL(fileURLWithPath: out).deletingPathExtension().appendingPathExtension("svg")
            try AtomicFile.write(Data(chart(results).utf8), to: svg)
        }
        return run
    }

    static func parameters(_ r: VerifyRequest) -> [(String, JSONValue)] {
        [
            ("scale", .string(r.scale.description)), ("causal", .bool(r.scoreModel.mask.isCausal)),
            ("score_terms", .array(r.scoreModel.terms.map { .string("\($0)") })),
            ("engine", .string(r.engine.rawValue)), ("precision_bits", .int(r.precision)),
            ("candidate_type", r.candidateType.map { .string($0.shortName) } ?? .null),
            ("max_floor_ratio", r.maxFloorRatio.map { .double($0) } ?? .null),
        ]
    }

    /// Bin names of the histograms: "le_0.5" … "gt_64".
    static var binNames: [String] {
        AccuracyTally.binEdges.map { "le_" + formatShortest($0) } + [
            "gt_" + formatShortest(AccuracyTally.binEdges.last!)
        ]
    }

    /// One row per candidate (CONVENTIONS.md: bounds end in `_bound`; fractions in [0, 1]).
    public static func table(_ results: [VerifyRequest.CandidateResult]) -> RunReport.Table {
        let header =
            [
                "label", "source", "type", "entries", "max_error_bound", "max_error_lower_bound",
                "rounding_floor_lower_bound", "rounding_floor_upper_bound", "floor_ratio_lower_bound",
                "floor_ratio_upper_bound", "correctly_rounded", "faithful", "undecided",
            ] + binNames.map { "ulp_" + $0 } + binNames.map { "vscale_" + $0 }
        let rows = results.map { r -> [String] in
            let a = r.accuracy, ratio = r.floorRatio, n = CSV.number
            return [
                r.entry.label, r.entry.source.description, r.type.shortName, String(a.entries),
                n(r.verification.maxErrorBound), n(a.maxErrorLower), n(a.floorLower), n(a.floorUpper), n(ratio.lo),
                n(ratio.hi), n(a.fraction(a.correctlyRounded)), n(a.fraction(a.faithful)), n(a.fraction(a.undecided)),
            ] + (a.ulpHistogram + a.scaleHistogram).map { n(a.fraction($0)) }
        }
        return RunReport.Table(header: header, rows: rows)
    }

    /// The terminal table: one line per candidate, bounds rounded up, ratios as intervals.
    public static func text(_ results: [VerifyRequest.CandidateResult]) -> [String] {
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
        let w = max(9, results.map(\.entry.label.count).max() ?? 0)
        let pct = { (x: Double) in String(format: "%.1f%%", 100 * x) }
        var lines = [
            pad("candidate", w) + "  type  " + pad("max|c − y| ≤", 13) + pad("floor max|RN(y) − y|", 24)
                + pad("error / floor", 16) + "  CR      faithful  undecided"
        ]
        for r in results {
            let a = r.accuracy, ratio = r.floorRatio
            let floor =
                a.floorLower == a.floorUpper
                ? TextFormat.bound(a.floorUpper)
                : "[\(TextFormat.bound(a.floorLower)), \(TextFormat.bound(a.floorUpper))]"
            let rt = String(format: "[%.3g, %.3g]", ratio.lo, ratio.hi)
            lines.append(
                pad(r.entry.label, w) + "  " + pad(r.type.shortName, 4) + "  "
                    + pad(TextFormat.bound(r.verification.maxErrorBound), 13)
                    + pad(floor, 24) + pad(rt, 16) + "  " + pad(pct(a.fraction(a.correctlyRounded)), 8)
                    + pad(pct(a.fraction(a.faithful)), 10) + pct(a.fraction(a.undecided)))
        }
        lines.append(
            "(floor: the error of the correctly rounded truth RN_T(y), the best a kernel storing T can do; "
                + "CR: certifiably c = RN_T(y); faithful: c is one of T's two neighbours of y)")
        return lines
    }

    /// Grouped bars: for each candidate, the fraction of entries per bin of |c − y| in ulps of T.
    public static func chart(_ results: [VerifyRequest.CandidateResult]) -> String {
        let (left, top, w, h) = (70.0, 60.0, 600.0, 300.0)
        let bins = AccuracyTally.binEdges.count + 1
        let slot = w / Double(bins), bar = slot * 0.8 / Double(max(results.count, 1))
        func r(_ x: Double) -> String { String(format: "%.1f", x) }
        func esc(_ t: String) -> String {
            t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(left + w + 170))" height="\(Int(top + h + 60))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(r(left))" y="24" font-size="16" font-weight="bold">Certified |candidate − truth| in ulps of the storage type</text>
            <text x="\(r(left))" y="44" font-size="12" fill="#555">fraction of entries per bin; ≤ 0.5 ulp is the correctly rounded band</text>
            <rect x="\(r(left))" y="\(r(top))" width="\(r(w))" height="\(r(h))" fill="none" stroke="#333"/>

            """
        for t in stride(from: 0.0, through: 1.0, by: 0.25) {
            let y = top + h - t * h
            s += "<line x1=\"\(r(left))\" y1=\"\(r(y))\" x2=\"\(r(left + w))\" y2=\"\(r(y))\" stroke=\"#e4e4e4\"/>\n"
            s +=
                "<text x=\"\(r(left - 6))\" y=\"\(r(y + 4))\" font-size=\"12\" text-anchor=\"end\">\(formatShortest(t))</text>\n"
        }
        let names =
            AccuracyTally.binEdges.map { "≤ " + formatShortest($0) } + [
                "> " + formatShortest(AccuracyTally.binEdges.last!)
            ]
        for (b, name) in names.enumerated() {
            let x = left + (Double(b) + 0.5) * slot
            s +=
                "<text x=\"\(r(x))\" y=\"\(r(top + h + 17))\" font-size=\"12\" text-anchor=\"middle\">\(esc(name))</text>\n"
        }
        s +=
            "<text x=\"\(r(left + w / 2))\" y=\"\(r(top + h + 40))\" font-size=\"13\" text-anchor=\"middle\">ulps of T at |y|</text>\n"
        for (i, c) in results.enumerated() {
            let color = SweepPlot.palette[i % SweepPlot.palette.count]
            for b in 0..<bins {
                let f = c.accuracy.fraction(c.accuracy.ulpHistogram[b])
                let x = left + Double(b) * slot + slot * 0.1 + Double(i) * bar
                s +=
                    "<rect x=\"\(r(x))\" y=\"\(r(top + h - f * h))\" width=\"\(r(bar))\" height=\"\(r(f * h))\" fill=\"\(color)\"/>\n"
            }
            s +=
                "<rect x=\"\(r(left + w + 12))\" y=\"\(r(top + Double(i) * 18))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>\n"
            s +=
                "<text x=\"\(r(left + w + 26))\" y=\"\(r(top + Double(i) * 18 + 9))\" font-size=\"12\">\(esc(c.entry.label))</text>\n"
        }
        return s + "</svg>\n"
    }
}
