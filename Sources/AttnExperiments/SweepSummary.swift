import AttnCore
import Foundation

/// One curve: a metric against B for one n (median over trials).
public struct Curve: Sendable {
    public let n: Int
    /// (B, B/√ln n, value), ascending in B.
    public let points: [(B: Double, c: Double, value: Double)]
}

extension SweepTable {
    /// Curves of `metric` for one experiment and method, one per n; the
    /// distribution is the first one present unless given.
    public func curves(
        _ e: Experiment, method: String? = nil, distribution: String? = nil, mean: Bool = false,
        metric: (Record) -> Double?
    ) -> [Curve] {
        let rs = records.filter { $0.experiment == e && (method == nil || $0.method == method) }
        guard let dist = distribution ?? rs.first?.distribution else { return [] }
        var byN: [Int: [Double: (c: Double, vals: [Double])]] = [:]
        for r in rs where r.distribution == dist {
            guard let v = metric(r) else { continue }
            byN[r.n, default: [:]][r.B, default: (r.c, [])].vals.append(v)
        }
        return byN.keys.sorted().map { n in
            Curve(
                n: n,
                points: byN[n]!.keys.sorted().map { b in
                    let e = byN[n]![b]!
                    return (b, e.c, mean ? e.vals.reduce(0, +) / Double(e.vals.count) : median(e.vals))
                })
        }
    }

    func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
    }
}

/// The numbers a reader wants from a sweep, per experiment.
public struct SweepSummary: Sendable {
    public let table: SweepTable
    public init(table: SweepTable) { self.table = table }

    /// c at which a curve first reaches `level` (linear interpolation in log c
    /// between the grid points around the crossing); nil if it never does.
    static func crossing(_ curve: Curve, level: Double) -> Double? {
        var prev: (c: Double, v: Double)?
        for p in curve.points {
            if p.value >= level {
                guard let q = prev, q.v.isFinite, p.value.isFinite, p.value > q.v else { return p.c }
                let t = (level - q.v) / (p.value - q.v)
                return exp(log(q.c) + t * (log(p.c) - log(q.c)))
            }
            prev = (p.c, p.value)
        }
        return nil
    }

    /// degree-vs-b: c*_n per n where log_n(n·r·d) crosses 2, and how tightly the curves collapse:
    /// the mean over shared c values of (max − min) of the exponent across n, for exponents ≤ 2.5.
    public var degree:
        (cStar: [(n: Int, c: Double?)], median: Double?, spread: Double?, smallestC: [(n: Int, exponent: Double)])?
    {
        threshold(.degreeVsB)
    }

    /// As `degree`, for any experiment with an `exponent` column (degree-vs-b, grad-vs-b).
    public func threshold(_ e: Experiment) -> (
        cStar: [(n: Int, c: Double?)], median: Double?, spread: Double?, smallestC: [(n: Int, exponent: Double)]
    )? {
        let cs = table.curves(e) { $0.exponent }
        guard !cs.isEmpty else { return nil }
        let stars = cs.map { ($0.n, Self.crossing($0, level: 2)) }
        let found = stars.compactMap(\.1).sorted()
        let med: Double? = found.isEmpty ? nil : table.median(found)
        var spreads: [Double] = []
        let shared = Set(cs[0].points.map(\.c))
        for c in shared.sorted() {
            let vals = cs.compactMap { $0.points.first(where: { $0.c == c })?.value }
            guard vals.count == cs.count, vals.allSatisfy({ $0.isFinite && $0 <= 2.5 }) else { continue }
            spreads.append(vals.max()! - vals.min()!)
        }
        let spread = spreads.isEmpty ? nil : spreads.reduce(0, +) / Double(spreads.count)
        return (stars, med, spread, cs.map { ($0.n, $0.points.first!.value) })
    }

    public var json: JSONValue {
        var out: [(String, JSONValue)] = []
        if let s = degree {
            out.append(
                (
                    "degree_vs_b",
                    .object([
                        ("c_star_median", s.median.map { .double($0) } ?? .null),
                        ("c_star_by_n", .object(s.cStar.map { (String($0.n), $0.c.map { .double($0) } ?? .null) })),
                        ("collapse_mean_spread", s.spread.map { .double($0) } ?? .null),
                        (
                            "exponent_at_smallest_c_by_n",
                            .object(s.smallestC.map { (String($0.n), .double($0.exponent)) })
                        ),
                    ])
                ))
        }
        let err = table.curves(.errorVsB) { $0.error }
        if !err.isEmpty {
            out.append(
                (
                    "error_vs_b",
                    .object(
                        err.map { cv in
                            let eps = 1 / Double(cv.n)  // reported against 1/n, the target
                            return (
                                String(cv.n),
                                .object([
                                    ("error_at_smallest_B", .double(cv.points.first!.value)),
                                    ("error_at_largest_B", .double(cv.points.last!.value)),
                                    (
                                        "c_where_error_exceeds_1_over_n",
                                        Self.crossing(cv, level: eps).map { .double($0) } ?? .null
                                    ),
                                ])
                            )
                        })
                ))
        }
        if let g = gradient {
            out.append(
                (
                    "grad_vs_b",
                    .object([
                        ("c_star_median", g.threshold.median.map { .double($0) } ?? .null),
                        (
                            "c_star_by_n",
                            .object(g.threshold.cStar.map { (String($0.n), $0.c.map { .double($0) } ?? .null) })
                        ),
                        ("collapse_mean_spread", g.threshold.spread.map { .double($0) } ?? .null),
                        (
                            "c_rank_reaches_n_by_n",
                            .object(g.rankReachesN.map { (String($0.n), $0.gradient.map { .double($0) } ?? .null) })
                        ),
                        (
                            "c_forward_rank_reaches_n_by_n",
                            .object(g.rankReachesN.map { (String($0.n), $0.forward.map { .double($0) } ?? .null) })
                        ),
                        ("measured_points", .int(g.measured)),
                        ("max_error_over_bound", g.worstRatio.map { .double($0) } ?? .null),
                    ])
                ))
        }
        let red = reduction
        if !red.isEmpty {
            out.append(
                (
                    "grad_reduction",
                    .object(
                        red.map { r in
                            (
                                "n=\(r.n),c=\(fmt4(r.c))",
                                .object([
                                    ("m", .array(r.m.map { .int($0) })),
                                    ("error", .array(r.error.map { .double($0) })),
                                    ("bound", .array(r.bound.map { .double($0) })),
                                ])
                            )
                        })
                ))
        }
        let er = table.curves(.erankVsB) { $0.rank }
        if !er.isEmpty {
            out.append(
                (
                    "erank_vs_b",
                    .object(
                        er.map { cv in
                            (
                                String(cv.n),
                                .object([
                                    ("rank_at_smallest_B", .double(cv.points.first!.value)),
                                    ("rank_at_largest_B", .double(cv.points.last!.value)),
                                ])
                            )
                        })
                ))
        }
        let exact = table.curves(.hardInstance, method: "exact", mean: true) { $0.revealed.map { $0 ? 1 : 0 } }
        if !exact.isEmpty {
            let polyName = table.records.first { $0.experiment == .hardInstance && $0.method != "exact" }?.method
            let poly = table.curves(.hardInstance, method: polyName, mean: true) { $0.revealed.map { $0 ? 1 : 0 } }
            out.append(
                (
                    "hard_instance",
                    .object(
                        exact.map { cv in
                            let p = poly.first { $0.n == cv.n }
                            return (
                                String(cv.n),
                                .object([
                                    ("c", .array(cv.points.map { .double($0.c) })),
                                    ("exact_revealed_fraction", .array(cv.points.map { .double($0.value) })),
                                    ("poly_revealed_fraction", .array((p?.points ?? []).map { .double($0.value) })),
                                ])
                            )
                        })
                ))
        }
        return .object(out)
    }

    /// A few human lines for stdout.
    public var lines: [String] {
        var out: [String] = []
        if let s = degree {
            let byN = s.cStar.map { "n=\($0.n): \($0.c.map { fmt4($0) } ?? "none")" }.joined(separator: ", ")
            out.append(
                "degree-vs-b: exponent log_n(n·r·d) crosses 2 at c* = B/√ln n ≈ \(s.median.map(fmt4) ?? "—") (\(byN))")
            out.append(
                "degree-vs-b: collapse: mean spread across n of the exponent \(s.spread.map(fmt4) ?? "—"); at the smallest c: "
                    + s.smallestC.map { "\(fmt4($0.exponent))" }.joined(separator: ", "))
        }
        if let g = gradient {
            let byN = g.threshold.cStar.map { "n=\($0.n): \($0.c.map { fmt4($0) } ?? "none")" }.joined(separator: ", ")
            out.append(
                "grad-vs-b: exponent log_n(n·k₁k₂·d) crosses 2 at c* = B/√ln n ≈ \(g.threshold.median.map(fmt4) ?? "—") (\(byN)); collapse: mean spread \(g.threshold.spread.map(fmt4) ?? "—")"
            )
            for r in g.rankReachesN {
                out.append(
                    "grad-vs-b n=\(r.n): k₁k₂ reaches n at c ≈ \(r.gradient.map(fmt4) ?? "never") (the forward's k₁ at c ≈ \(r.forward.map(fmt4) ?? "never"))"
                )
            }
            out.append(
                "grad-vs-b: \(g.measured) points measured; certified error ≤ a-priori bound at all of them (largest ratio \(g.worstRatio.map(fmt4) ?? "—"))"
            )
        }
        for r in reduction {
            out.append(
                "grad-reduction n=\(r.n) c=\(fmt4(r.c)) (illustration): |Riemann − (f(1) − f(0))| "
                    + zip(r.m, r.error).map { "m=\($0): \(fmt4($1))" }.joined(separator: ", ")
                    + "; proved b/m at m=\(r.m.last ?? 0): \(fmt4(r.bound.last ?? .nan))")
        }
        for cv in table.curves(.errorVsB, metric: { $0.error }) {
            let x = Self.crossing(cv, level: 1 / Double(cv.n))
            out.append(
                "error-vs-b n=\(cv.n): error \(fmt4(cv.points.first!.value)) at B=\(fmt4(cv.points.first!.B)) → \(fmt4(cv.points.last!.value)) at B=\(fmt4(cv.points.last!.B)); exceeds 1/n from c ≈ \(x.map(fmt4) ?? "never")"
            )
        }
        for cv in table.curves(.erankVsB, metric: { $0.rank }) {
            out.append(
                "erank-vs-b n=\(cv.n): ε-rank of D⁻¹A \(fmt4(cv.points.first!.value)) at c=\(fmt4(cv.points.first!.c)), up to \(fmt4(cv.points.map(\.value).max()!)) at larger B"
            )
        }
        let polyName = table.records.first { $0.experiment == .hardInstance && $0.method != "exact" }?.method
        for (method, label) in [("exact", "exact"), (polyName ?? "", "poly at budget")] where polyName != nil {
            for cv in table.curves(
                .hardInstance, method: method, mean: true, metric: { $0.revealed.map { $0 ? 1 : 0 } })
            {
                let verdict =
                    cv.points.allSatisfy { $0.value == 0 }
                    ? "never revealed"
                    : cv.points.first { $0.value >= 1 }.map { "revealed in every trial from c = " + fmt4($0.c) }
                        ?? "sometimes revealed"
                out.append(
                    "hard-instance n=\(cv.n) \(label): revealed fraction "
                        + cv.points.map { fmt4($0.value) }.joined(separator: " ") + " (c = "
                        + cv.points.map { fmt4($0.c) }.joined(separator: " ") + "): \(verdict)")
            }
        }
        out.append(contentsOf: agreementLines(poly: polyName))
        return out
    }

    /// grad-vs-b: the exponent threshold, where the rank k₁k₂ (and the forward's k₁ = rank/d) first reach n
    /// (c interpolated in log c), and the measured points' largest certified error over bound.
    public var gradient:
        (
            threshold: (
                cStar: [(n: Int, c: Double?)], median: Double?, spread: Double?,
                smallestC: [(n: Int, exponent: Double)]
            ), rankReachesN: [(n: Int, gradient: Double?, forward: Double?)], measured: Int, worstRatio: Double?
        )?
    {
        guard let t = threshold(.gradVsB) else { return nil }
        let grad = table.curves(.gradVsB) { r in r.rank.map { $0 / Double(r.n) } }
        let fwd = table.curves(.gradVsB) { r in r.rank.map { $0 / Double(r.d) / Double(r.n) } }
        let reach = grad.map { cv in
            (cv.n, Self.crossing(cv, level: 1), fwd.first { $0.n == cv.n }.flatMap { Self.crossing($0, level: 1) })
        }
        let measured = table.records.filter { $0.experiment == .gradVsB && $0.error != nil }
        let ratios = measured.compactMap { r in r.bound.map { b in r.error! / b } }
        return (t, reach, measured.count, ratios.max())
    }

    /// grad-reduction: per (n, c, first trial), the m values with their errors and bounds.
    public var reduction: [(n: Int, c: Double, m: [Int], error: [Double], bound: [Double])] {
        var out: [(n: Int, c: Double, m: [Int], error: [Double], bound: [Double])] = []
        for r in table.records where r.experiment == .gradReduction && r.trial == 0 {
            if let i = out.indices.last, out[i].n == r.n, out[i].c == r.c {
                out[i].m.append(r.rows ?? 0)
                out[i].error.append(r.error ?? .nan)
                out[i].bound.append(r.bound ?? .nan)
            } else {
                out.append((r.n, r.c, [r.rows ?? 0], [r.error ?? .nan], [r.bound ?? .nan]))
            }
        }
        return out
    }

    /// Per n and c: the fraction of trials in which the polynomial method's
    /// verdict (pair revealed or not) is exact attention's verdict. The
    /// reduction's point in one number: a method that approximates attention
    /// well enough decides the instance; one that cannot, does not.
    func agreementLines(poly: String?) -> [String] {
        guard let poly else { return [] }
        // Each hard-instance point (one n, c and trial) has an exact row and a poly row.
        var exact: [Int: Bool] = [:], approx: [Int: Bool] = [:], where_: [Int: (n: Int, c: Double)] = [:]
        for r in table.records where r.experiment == .hardInstance {
            guard let v = r.revealed else { continue }
            if r.method == "exact" { exact[r.point] = v } else if r.method == poly { approx[r.point] = v }
            where_[r.point] = (r.n, r.c)
        }
        var cells: [Int: [Double: (agree: Int, total: Int)]] = [:]
        for (point, e) in exact {
            guard let a = approx[point], let (n, c) = where_[point] else { continue }
            var cell = cells[n, default: [:]][c, default: (0, 0)]
            cell.total += 1
            if a == e { cell.agree += 1 }
            cells[n, default: [:]][c] = cell
        }
        return cells.keys.sorted().map { n in
            let byC = cells[n]!, cs = byC.keys.sorted()
            return "hard-instance n=\(n): poly's verdict equals exact's in fraction "
                + cs.map { fmt4(Double(byC[$0]!.agree) / Double(byC[$0]!.total)) }.joined(separator: " ") + " (c = "
                + cs.map(fmt4).joined(separator: " ") + ")"
        }
    }
}

func fmt4(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : formatShortest(x) }
