import AttnCore
import Foundation

/// `attnbound plot`: each experiment of a sweep CSV as a row of two panels,
/// the metric against B and against B/√ln n, one curve per n.
///
/// The second panel is the point of the figure: if the threshold sits at
/// B = Θ(√ln n), the curves for different n fall onto one curve there.
public enum SweepPlot {
    static let palette = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
        "#7f7f7f", "#bcbd22", "#17becf",
    ]

    /// What one experiment's figure shows.
    struct Figure {
        let title: String
        let yLabel: String
        let logY: Bool
        let clampY: ClosedRange<Double>?
        /// Solid curves, and optional dashed companions (same colour per n).
        let solid: [Curve]
        let dashed: [Curve]
        let dashedLabel: String?
        /// Horizontal reference lines: (y, label); per-n lines take the curve colour.
        let hlines: [(y: Double, label: String)]
        let perNLines: [(n: Int, y: Double)]
        let note: String
    }

    static func figures(_ t: SweepTable) -> [Figure] {
        var out: [Figure] = []
        for e in t.experiments {
            switch e {
            case .degreeVsB:
                let s = SweepSummary(table: t).degree
                let cs = s?.median.map { "c* ≈ " + fmt4($0) } ?? "no crossing in range"
                out.append(
                    Figure(
                        title: "degree-vs-b: cost exponent of the polynomial method (ε = 1/n)",
                        yLabel: "log_n(n·r·d)", logY: false, clampY: 1...4,
                        solid: t.curves(e) { $0.exponent.map { min($0, 1e9) } }, dashed: [], dashedLabel: nil,
                        hlines: [(2, "exact attention (n²d)"), (1, "linear time (n)")], perNLines: [],
                        note: "exponent 2 crossed at \(cs); values above 4 drawn at the top edge"))
            case .errorVsB:
                let solid = t.curves(e) { $0.error.map { max($0, 1e-17) } }
                out.append(
                    Figure(
                        title: "error-vs-b: max|T − Att| at rank budget r ≤ n^γ (‖V‖∞ ≤ 1)",
                        yLabel: "max |T − Att|", logY: true, clampY: 1e-17...1e3, solid: solid, dashed: [],
                        dashedLabel: nil, hlines: [], perNLines: solid.map { ($0.n, 1 / Double($0.n)) },
                        note: "dotted: 1/n in the colour of each n"))
            case .erankVsB:
                out.append(
                    Figure(
                        title: "erank-vs-b: numerical ε-rank of the attention matrix D⁻¹A, A = exp(QKᵀ/d), ε = 1/n",
                        yLabel: "ε-rank of D⁻¹A", logY: true, clampY: nil,
                        solid: t.curves(e) { $0.rank }, dashed: [], dashedLabel: nil, hlines: [],
                        perNLines: [], note: "rank n means no low-rank structure"))
            case .gradVsB:
                let s = SweepSummary(table: t).threshold(e)
                let cs = s?.median.map { "c* ≈ " + fmt4($0) } ?? "no crossing in range"
                out.append(
                    Figure(
                        title: "grad-vs-b: cost exponent of the polynomial method for dL/dX (ε = 1/n)",
                        yLabel: "log_n(n·k₁k₂·d)", logY: false, clampY: 1...4,
                        solid: t.curves(e) { $0.exponent.map { min($0, 1e9) } },
                        dashed: t.curves(e) { r in r.rank.map { 1 + log($0) / log(Double(r.n)) } },
                        dashedLabel: "forward: log_n(n·k₁·d)",
                        hlines: [(2, "exact gradient (n²d)"), (1, "linear time (n)")],
                        perNLines: [], note: "exponent 2 crossed at \(cs); values above 4 drawn at the top edge"))
            case .gradReduction:
                let last = t.records.filter { $0.experiment == e }.compactMap(\.rows).max()
                out.append(
                    Figure(
                        title: "grad-reduction (illustration): f(1) − f(0) from m = \(last ?? 0) gradient calls",
                        yLabel: "|Riemann sum − (f(1) − f(0))|", logY: true, clampY: 1e-17...1e9,
                        solid: t.curves(e, mean: true) { $0.rows == last ? $0.error.map { max($0, 1e-17) } : nil },
                        dashed: t.curves(e, mean: true) { $0.rows == last ? $0.bound : nil },
                        dashedLabel: "proved b/m (+ oracle)", hlines: [], perNLines: [],
                        note: "solid: measured error; dashed: the proved bound b/m of Lemmas E.3–E.4"))
            case .hardInstance:
                let poly = t.records.first { $0.experiment == e && $0.method != "exact" }?.method
                let frac: (SweepTable.Record) -> Double? = { $0.revealed.map { $0 ? 1 : 0 } }
                out.append(
                    Figure(
                        title: "hard-instance: is the planted close pair revealed? (β = c·√ln n)",
                        yLabel: "fraction of trials revealed", logY: false, clampY: 0...1,
                        solid: t.curves(e, method: poly, mean: true, metric: frac),
                        dashed: t.curves(e, method: "exact", mean: true, metric: frac),
                        dashedLabel: "exact attention", hlines: [], perNLines: [],
                        note: "solid: \(poly ?? "poly") at rank budget r ≤ n^γ; dashed: exact output"))
            }
        }
        return out
    }

    /// `plot` as one call: reads the sweep CSV at `csv`, writes its figure to `output` (an .svg,
    /// by temp file and rename) and reports what was drawn.
    public static func write(csv: String, to output: String) throws -> RunReport {
        guard output.hasSuffix(".svg") else { throw AttnError.usage(.output, "\(output): must end in .svg") }
        guard let data = FileManager.default.contents(atPath: csv) else { throw AttnError.usage("\(csv): cannot read") }
        let table = try SweepTable(csv: String(decoding: data, as: UTF8.self), source: csv)
        try AtomicFile.write(try svg(table), to: URL(fileURLWithPath: output))
        let names = table.experiments.map(\.rawValue)
        return RunReport(
            command: "plot", summary: [("experiments", .array(names.map { .string($0) }))],
            text: ["wrote \(output) (\(names.joined(separator: ", ")))"])
    }

    /// The SVG document for a sweep table.
    /// - Throws: `AttnError.usage` if the table has no rows.
    public static func svg(_ table: SweepTable) throws -> String {
        let figs = figures(table)
        guard !figs.isEmpty else { throw AttnError.usage("plot: the CSV has no data rows") }
        let panelW = 430.0, panelH = 270.0, left = 78.0, gap = 96.0, legendW = 150.0, top = 58.0, rowH = 380.0
        let width = left + 2 * panelW + gap + legendW + 20
        let height = 20 + rowH * Double(figs.count)
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>

            """
        for (row, f) in figs.enumerated() {
            let y0 = 20 + Double(row) * rowH
            s += text(left, y0 + 18, f.title, size: 16, weight: "bold")
            s += text(left, y0 + 38, f.note, size: 12, fill: "#555")
            let all = (f.solid + f.dashed).flatMap { $0.points.map(\.value) } + f.hlines.map(\.y) + f.perNLines.map(\.y)
            let yAxis = SVGAxis(covering: all, log: f.logY, clampTo: f.clampY)
            for (k, useC) in [false, true].enumerated() {
                let x0 = left + Double(k) * (panelW + gap)
                let xs = (f.solid + f.dashed).flatMap { $0.points.map { useC ? $0.c : $0.B } }
                let xAxis = SVGAxis(covering: xs, log: true)
                s += panel(
                    f, x0: x0, y0: y0 + top, w: panelW, h: panelH, xAxis: xAxis, yAxis: yAxis, useC: useC,
                    id: "p\(row)\(k)")
            }
            s += legend(f, x0: left + 2 * panelW + gap + 18, y0: y0 + top + 8)
        }
        return s + "</svg>\n"
    }

    private static func panel(
        _ f: Figure, x0: Double, y0: Double, w: Double, h: Double, xAxis: SVGAxis, yAxis: SVGAxis,
        useC: Bool, id: String
    ) -> String {
        func px(_ x: Double) -> Double { x0 + xAxis.frac(x) * w }
        func py(_ y: Double) -> Double { y0 + h - yAxis.frac(y) * h }
        var s =
            "<clipPath id=\"\(id)\"><rect x=\"\(r(x0))\" y=\"\(r(y0 - 1))\" width=\"\(r(w))\" height=\"\(r(h + 2))\"/></clipPath>\n"
        s +=
            "<rect x=\"\(r(x0))\" y=\"\(r(y0))\" width=\"\(r(w))\" height=\"\(r(h))\" fill=\"none\" stroke=\"#333\"/>\n"
        for (v, label) in xAxis.ticks() {
            let x = px(v)
            s += "<line x1=\"\(r(x))\" y1=\"\(r(y0))\" x2=\"\(r(x))\" y2=\"\(r(y0 + h))\" stroke=\"#e4e4e4\"/>\n"
            s += text(x, y0 + h + 17, label, size: 12, anchor: "middle")
        }
        for (v, label) in yAxis.ticks() {
            let y = py(v)
            s += "<line x1=\"\(r(x0))\" y1=\"\(r(y))\" x2=\"\(r(x0 + w))\" y2=\"\(r(y))\" stroke=\"#e4e4e4\"/>\n"
            s += text(x0 - 6, y + 4, label, size: 12, anchor: "end")
        }
        s += text(
            x0 + w / 2, y0 + h + 38, useC ? "B / √ln n" : "B (entries of Q, K in [−B, B])", size: 13, anchor: "middle")
        s +=
            "<text x=\"\(r(x0 - 56))\" y=\"\(r(y0 + h / 2))\" font-size=\"13\" text-anchor=\"middle\" transform=\"rotate(-90 \(r(x0 - 56)) \(r(y0 + h / 2)))\">\(esc(f.yLabel))</text>\n"
        s += "<g clip-path=\"url(#\(id))\">\n"
        for (i, (y, _)) in f.hlines.enumerated() {
            s += "<line x1=\"\(r(x0))\" y1=\"\(r(py(y)))\" x2=\"\(r(x0 + w))\" y2=\"\(r(py(y)))\" \(hlineStyle(i))/>\n"
        }
        let ns = Array(Set((f.solid + f.dashed).map(\.n))).sorted()
        func colour(_ n: Int) -> String { palette[(ns.firstIndex(of: n) ?? 0) % palette.count] }
        for (n, y) in f.perNLines {
            s +=
                "<line x1=\"\(r(x0))\" y1=\"\(r(py(y)))\" x2=\"\(r(x0 + w))\" y2=\"\(r(py(y)))\" stroke=\"\(colour(n))\" stroke-width=\"1\" stroke-dasharray=\"2 3\"/>\n"
        }
        let lo = f.clampY?.lowerBound ?? -Double.infinity, hi = f.clampY?.upperBound ?? Double.infinity
        for (curves, dash) in [(f.solid, ""), (f.dashed, " stroke-dasharray=\"7 4\"")] {
            for cv in curves {
                let pts = cv.points.filter { $0.value.isFinite || $0.value == .infinity }
                    .map { (px(useC ? $0.c : $0.B), py(min(max($0.value, lo), hi))) }
                    .filter { $0.1.isFinite }
                guard !pts.isEmpty else { continue }
                s +=
                    "<polyline fill=\"none\" stroke=\"\(colour(cv.n))\" stroke-width=\"1.8\"\(dash) points=\""
                    + pts.map { "\(r($0.0)),\(r($0.1))" }.joined(separator: " ") + "\"/>\n"
                if dash.isEmpty {
                    for p in pts {
                        s += "<circle cx=\"\(r(p.0))\" cy=\"\(r(p.1))\" r=\"2.2\" fill=\"\(colour(cv.n))\"/>\n"
                    }
                }
            }
        }
        return s + "</g>\n"
    }

    private static func legend(_ f: Figure, x0: Double, y0: Double) -> String {
        let ns = Array(Set((f.solid + f.dashed).map(\.n))).sorted()
        var s = text(x0, y0, "curves", size: 13, weight: "bold")
        var y = y0 + 20
        for (i, n) in ns.enumerated() {
            let c = palette[i % palette.count]
            s +=
                "<line x1=\"\(r(x0))\" y1=\"\(r(y - 4))\" x2=\"\(r(x0 + 24))\" y2=\"\(r(y - 4))\" stroke=\"\(c)\" stroke-width=\"2.5\"/>\n"
            s += text(x0 + 30, y, "n = " + nLabel(n), size: 12)
            y += 18
        }
        for (i, (_, label)) in f.hlines.enumerated() {
            s += "<line x1=\"\(r(x0))\" y1=\"\(r(y - 4))\" x2=\"\(r(x0 + 24))\" y2=\"\(r(y - 4))\" \(hlineStyle(i))/>\n"
            s += text(x0 + 30, y, label, size: 11)
            y += 18
        }
        if let d = f.dashedLabel {
            s +=
                "<line x1=\"\(r(x0))\" y1=\"\(r(y - 4))\" x2=\"\(r(x0 + 24))\" y2=\"\(r(y - 4))\" stroke=\"#555\" stroke-dasharray=\"7 4\"/>\n"
            s += text(x0 + 30, y, d, size: 11)
        }
        return s
    }

    /// Reference lines: the first black dashed, the others grey dotted.
    static func hlineStyle(_ i: Int) -> String {
        i == 0
            ? "stroke=\"#000\" stroke-width=\"1.2\" stroke-dasharray=\"6 4\""
            : "stroke=\"#888\" stroke-width=\"1.2\" stroke-dasharray=\"2 3\""
    }

    /// "2^14" style for powers of two, else the number.
    static func nLabel(_ n: Int) -> String {
        n > 0 && n & (n - 1) == 0 ? "2^\(n.trailingZeroBitCount)" : String(n)
    }

    private static func text(
        _ x: Double, _ y: Double, _ t: String, size: Int, anchor: String = "start",
        weight: String = "normal", fill: String = "#000"
    ) -> String {
        "<text x=\"\(r(x))\" y=\"\(r(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\" fill=\"\(fill)\">\(esc(t))</text>\n"
    }

    private static func r(_ x: Double) -> String { String(format: "%.1f", x) }

    private static func esc(_ t: String) -> String {
        t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
