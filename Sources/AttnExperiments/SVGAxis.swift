import Foundation

/// A plot axis: maps data values to [0, 1] and proposes labelled ticks.
struct SVGAxis {
    let lo: Double
    let hi: Double
    let log: Bool

    /// An axis covering `values` (finite, and positive when `log`).
    init(covering values: [Double], log: Bool, clampTo limits: ClosedRange<Double>? = nil) {
        var v = values.filter { $0.isFinite && (!log || $0 > 0) }
        if let l = limits { v = v.map { min(max($0, l.lowerBound), l.upperBound) } }
        var lo = v.min() ?? (log ? 1e-3 : 0), hi = v.max() ?? (log ? 1 : 1)
        if log {
            // Snap outward to 1, 2 or 5 × 10ᵏ: tight, yet on round numbers.
            let steps = [1.0, 2, 5, 10]
            let a = pow(10, Foundation.floor(log10(lo))), b = pow(10, Foundation.floor(log10(hi)))
            lo = steps.last { $0 * a <= lo * (1 + 1e-12) }! * a
            hi = steps.first { $0 * b >= hi * (1 - 1e-12) }! * b
            if hi <= lo { hi = lo * 10 }
        } else {
            if hi <= lo { hi = lo + 1 }
            let pad = 0.05 * (hi - lo)
            lo -= pad; hi += pad
        }
        self.init(lo: lo, hi: hi, log: log)
    }

    init(lo: Double, hi: Double, log: Bool) { self.lo = lo; self.hi = hi; self.log = log }

    /// Position in [0, 1] (outside for values outside the axis).
    func frac(_ x: Double) -> Double {
        log ? (log10(x) - log10(lo)) / (log10(hi) - log10(lo)) : (x - lo) / (hi - lo)
    }

    /// Ticks with labels: decades (and 2, 5 when the axis spans few decades)
    /// on log axes; 1, 2 or 5 × 10ᵏ steps on linear ones.
    func ticks() -> [(value: Double, label: String)] {
        if log {
            let a = Int(Foundation.floor(log10(lo) + 1e-9)), b = Int(Foundation.ceil(log10(hi) - 1e-9))
            // Label the ends too when they are not decades (e.g. an axis from 0.02 to 5).
            let decades = b - a
            let step = max(1, Int((Double(decades) / 8).rounded(.up)))
            var out: [(Double, String)] = []
            for k in stride(from: a, through: b, by: step) {
                out.append((pow(10, Double(k)), Self.decade(k)))
                if decades <= 2 {
                    for m in [2.0, 5.0] where k < b {
                        out.append((m * pow(10, Double(k)), Self.short(m * pow(10, Double(k)))))
                    }
                }
            }
            for end in [lo, hi] where !out.contains(where: { abs($0.0 / end - 1) < 1e-9 }) && decades > 2 {
                out.append((end, Self.short(end)))
            }
            return out.filter { $0.0 >= lo * (1 - 1e-9) && $0.0 <= hi * (1 + 1e-9) }
        }
        let raw = (hi - lo) / 6
        let mag = pow(10, Foundation.floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var out: [(Double, String)] = []
        var x = Foundation.ceil(lo / step) * step
        while x <= hi + 1e-9 * step {
            out.append((x, Self.short(abs(x) < 1e-12 * step ? 0 : x)))
            x += step
        }
        return out
    }

    static func decade(_ k: Int) -> String {
        switch k {
        case -2...3: return short(pow(10, Double(k)))
        default: return "1e\(k)"
        }
    }

    static func short(_ x: Double) -> String {
        var s = String(format: "%.3g", x)
        if s.contains("e") {
            s = s.replacingOccurrences(of: "e+0", with: "e").replacingOccurrences(of: "e-0", with: "e-")
        }
        return s
    }
}
