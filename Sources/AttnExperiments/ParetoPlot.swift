import AttnCore
import Foundation

/// A one-panel trade-off figure (e.g. `lite calibrate`'s skipped fraction against error): a curve
/// through labelled points, highlighted extra points and a vertical reference line, on the same axes
/// and style as `SweepPlot`.
public enum ParetoPlot {
    public struct Point: Sendable {
        public var x: Double, y: Double, label: String
        public init(x: Double, y: Double, label: String) { self.x = x; self.y = y; self.label = label }
    }

    /// The SVG document. Points with a non-positive or non-finite x (a log axis) are drawn at the left edge.
    /// - Throws: `AttnError.usage` if there is nothing to draw.
    public static func svg(
        title: String, note: String, xLabel: String, yLabel: String, curve: [Point],
        highlight: [Point], vline: (x: Double, label: String)?
    ) throws -> String {
        guard !(curve + highlight).isEmpty else { throw AttnError.usage("plot: no points") }
        let (left, top, w, h) = (78.0, 70.0, 560.0, 340.0)
        let xs = (curve + highlight).map(\.x).filter { $0 > 0 && $0.isFinite } + (vline.map { [$0.x] } ?? [])
        let floor = (xs.min() ?? 1e-6) / 2
        let xAxis = SVGAxis(covering: xs + [floor], log: true)
        let yAxis = SVGAxis(lo: 0, hi: max(0.05, ((curve + highlight).map(\.y).max() ?? 1) * 1.1), log: false)
        func px(_ x: Double) -> Double { left + xAxis.frac(x > 0 && x.isFinite ? x : xAxis.lo) * w }
        func py(_ y: Double) -> Double { top + h - yAxis.frac(y) * h }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(left + w + 40))" height="\(Int(top + h + 60))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>

            """
        s += text(left, 24, title, size: 16, weight: "bold") + text(left, 44, note, size: 12, fill: "#555")
        s +=
            "<rect x=\"\(r(left))\" y=\"\(r(top))\" width=\"\(r(w))\" height=\"\(r(h))\" fill=\"none\" stroke=\"#333\"/>\n"
        for (v, label) in xAxis.ticks() {
            s +=
                "<line x1=\"\(r(px(v)))\" y1=\"\(r(top))\" x2=\"\(r(px(v)))\" y2=\"\(r(top + h))\" stroke=\"#e4e4e4\"/>\n"
            s += text(px(v), top + h + 17, label, size: 12, anchor: "middle")
        }
        for (v, label) in yAxis.ticks() where v >= 0 {
            s +=
                "<line x1=\"\(r(left))\" y1=\"\(r(py(v)))\" x2=\"\(r(left + w))\" y2=\"\(r(py(v)))\" stroke=\"#e4e4e4\"/>\n"
            s += text(left - 6, py(v) + 4, label, size: 12, anchor: "end")
        }
        s += text(left + w / 2, top + h + 40, xLabel, size: 13, anchor: "middle")
        s +=
            "<text x=\"\(r(left - 52))\" y=\"\(r(top + h / 2))\" font-size=\"13\" text-anchor=\"middle\" transform=\"rotate(-90 \(r(left - 52)) \(r(top + h / 2)))\">\(esc(yLabel))</text>\n"
        if let v = vline {
            s +=
                "<line x1=\"\(r(px(v.x)))\" y1=\"\(r(top))\" x2=\"\(r(px(v.x)))\" y2=\"\(r(top + h))\" \(SweepPlot.hlineStyle(0))/>\n"
            s += text(px(v.x) + 4, top + 14, v.label, size: 11)
        }
        let sorted = curve.sorted { ($0.x, $0.y) < ($1.x, $1.y) }
        s +=
            "<polyline fill=\"none\" stroke=\"\(SweepPlot.palette[0])\" stroke-width=\"1.8\" points=\""
            + sorted.map { "\(r(px($0.x))),\(r(py($0.y)))" }.joined(separator: " ") + "\"/>\n"
        for p in curve {
            s += "<circle cx=\"\(r(px(p.x)))\" cy=\"\(r(py(p.y)))\" r=\"2.6\" fill=\"\(SweepPlot.palette[0])\"/>\n"
            s += text(px(p.x) + 4, py(p.y) - 4, p.label, size: 10, fill: "#333")
        }
        for p in highlight {
            s += "<circle cx=\"\(r(px(p.x)))\" cy=\"\(r(py(p.y)))\" r=\"5\" fill=\"\(SweepPlot.palette[3])\"/>\n"
            s += text(px(p.x) + 7, py(p.y) + 14, p.label, size: 12, weight: "bold", fill: SweepPlot.palette[3])
        }
        return s + "</svg>\n"
    }

    private static func text(
        _ x: Double, _ y: Double, _ t: String, size: Int, anchor: String = "start",
        weight: String = "normal", fill: String = "#000"
    ) -> String {
        "<text x=\"\(r(x))\" y=\"\(r(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\" fill=\"\(fill)\">\(esc(t))</text>\n"
    }

    private static func r(_ x: Double) -> String { String(format: "%.1f", x) }

    private static func esc(_ t: String) -> String {
        t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;")
    }
}
