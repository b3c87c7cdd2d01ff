import AttnCore
import AttnKernels
import Foundation

/// The results of `Regime.analyze` as the CSV, the summary over heads, the
/// JSON object and the sidecar (AttnKit.docc/Conventions.md: one row per measured point,
/// bounds in `*_bound` columns).
public struct RegimeReport: Sendable {
    public let heads: [RegimeHead]
    public let options: Regime.Options

    public init(heads: [RegimeHead], options: Regime.Options) {
        self.heads = heads
        self.options = options
    }

    /// One CSV row per (batch, head, scale); the user's scale first, then the paper's.
    public static let columns = [
        "batch", "head", "kv_head", "scale", "scale_value", "n_q", "n", "d", "B", "c", "eps", "radius",
        "max_abs_score", "max_abs_score_error_bound", "degree", "relative_error_bound", "rank", "exponent",
        "poly_wins", "crossover_n",
    ]

    /// The rows as JSON values, keyed by `columns` (a missing degree is null).
    public var rows: [[(String, JSONValue)]] {
        heads.flatMap { h in
            h.scales.map { a in
                let values: [JSONValue] = [
                    .int(h.batch), .int(h.head), .int(h.kvHead), .string(a.scale.description), .double(a.scaleValue),
                    .int(h.queries), .int(h.keys), .int(h.d), .double(h.entryBound), .double(h.c), .double(h.epsilon),
                    .double(a.radius), .double(a.maxAbsScore), .double(a.maxAbsScoreErrorBound),
                    a.degree.map { .int($0) } ?? .null, .double(a.relativeErrorBound), .double(a.rank),
                    .double(a.exponent), .bool(a.polyWins), .double(a.crossoverN),
                ]
                return Array(zip(Self.columns, values))
            }
        }
    }

    /// The CSV fields of `rows`: shortest round-trip numbers, an empty field for a missing degree.
    public var csvFields: [[String]] {
        rows.map { row in
            row.map { _, v in
                switch v {
                case .null: ""
                case .string(let s): s
                case .double(let x): CSV.number(x)
                default: v.serialized()
                }
            }
        }
    }

    public var csv: String { CSV.row(Self.columns) + csvFields.map(CSV.row).joined() }

    /// min, median (mean of the two middle values for an even count) and max.
    public struct Spread: Sendable, Equatable {
        public let min: Double, median: Double, max: Double
        init(_ values: [Double]) {
            let s = values.sorted()
            precondition(!s.isEmpty)
            let m = s.count / 2
            self.min = s[0]; self.max = s[s.count - 1]
            self.median = s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
        }
        var json: JSONValue { .object([("min", .double(min)), ("median", .double(median)), ("max", .double(max))]) }
    }

    /// The summary over heads at one scale (index 0: the user's; 1: the paper's, if it differs).
    public struct Summary: Sendable, Equatable {
        public let scale: Scale
        public let heads: Int
        public let c: Spread
        /// Degrees; a head without a certified degree counts as +∞.
        public let degree: Spread
        public let exponent: Spread
        public let polyWins: Int
    }

    public var summaries: [Summary] {
        guard let first = heads.first else { return [] }
        return first.scales.indices.map { i in
            let at = heads.map { $0.scales[i] }
            return Summary(
                scale: at[0].scale, heads: heads.count, c: Spread(heads.map(\.c)),
                degree: Spread(at.map { $0.degree.map(Double.init) ?? .infinity }),
                exponent: Spread(at.map(\.exponent)), polyWins: at.filter(\.polyWins).count)
        }
    }

    /// One line per scale, e.g. "72 heads at scale standard: c 0.81 / 1.2 / 2.9, degree 12 / 20 / 45,
    /// exponent 2.10 / 2.50 / 3.10 (min / median / max); the polynomial method wins on 0 of 72".
    public var summaryLines: [String] {
        summaries.map { s in
            func three(_ x: Spread, _ f: (Double) -> String) -> String { "\(f(x.min)) / \(f(x.median)) / \(f(x.max))" }
            let c = three(s.c) { String(format: "%.3g", $0) }
            let g = three(s.degree) { $0.isFinite ? formatShortest($0) : "none" }
            let e = three(s.exponent) { $0.isFinite ? String(format: "%.3f", $0) : "inf" }
            return "\(s.heads) heads at scale \(s.scale): c = B/√ln n \(c), degree \(g), exponent \(e) "
                + "(min / median / max); the polynomial method wins on \(s.polyWins) of \(s.heads)"
        }
    }

    var parameters: JSONValue { .object(parameterPairs) }

    var parameterPairs: [(String, JSONValue)] {
        let eps: JSONValue =
            switch options.epsilon {
            case .fixed(let e): .double(e)
            case .power(let p): .string("n^-\(formatShortest(p))")
            }
        return [
            ("scale", .string(options.scale.description)), ("eps", eps),
            ("family", .string(options.family.rawValue)),
            ("exp_cost", .double(options.model.expCost)), ("value_cols", "d"),
        ]
    }

    var summaryJSON: JSONValue {
        .object(
            summaries.map { s in
                (
                    s.scale.description,
                    .object([
                        ("heads", .int(s.heads)), ("c", s.c.json), ("degree", s.degree.json),
                        ("exponent", s.exponent.json), ("poly_wins", .int(s.polyWins)),
                    ])
                )
            })
    }

    /// The `--json` object: parameters, summary per scale and every row.
    public var json: JSONValue {
        .object([
            ("tool", "attnbound regime"), ("parameters", parameters), ("summary", summaryJSON),
            ("rows", .array(rows.map { .object($0) })),
        ])
    }

    /// Writes the CSV and its sidecar (same stem, `.json`), each by temp file and rename.
    /// - Returns: the sidecar's URL.
    @discardableResult
    public func write(csv url: URL, version: String, argv: [String], inputs: [(String, String)]) throws -> URL {
        try Sidecar.regime(version: version, argv: argv, inputs: inputs, parameters: parameters, summary: summaryJSON)
            .write(csv: csv, to: url)
    }
}

extension Regime {
    /// `regime` as one call: reads Q and K (.npy, any dtype, widened exactly), analyses every head
    /// (`analyze`) and reports the table (CSV + sidecar with `inputs` and `summary`), the text
    /// (table and summary) and the JSON object. `progress`, if given, is redrawn after each head.
    public static func run(q: String, k: String, options: Options, progress: ProgressLine? = nil) throws -> RunReport {
        try options.validate()
        let (tq, tk): (Tensor<Double>, Tensor<Double>) = (try Npy.read(q), try Npy.read(k))
        let heads = try analyze(q: tq, k: tk, options: options) { done, total in
            progress?.update(done: done, total: total, fraction: Double(done) / Double(total))
        }
        progress?.finish()
        let report = RegimeReport(heads: heads, options: options)
        return RunReport(
            command: "regime", parameters: report.parameterPairs,
            table: .init(header: RegimeReport.columns, rows: report.csvFields), text: [report.table],
            json: report.json,
            sidecarExtra: [
                ("inputs", .object([("q", .string(q)), ("k", .string(k))])), ("summary", report.summaryJSON),
            ])
    }
}
