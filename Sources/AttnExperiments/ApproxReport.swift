import AttnCore
import AttnPoly
import Foundation

/// `approx`: one equal-rank approximation (`Approximation.run`), its measured error against
/// exact attention (`MeasuredError`), and the two ways it is printed (JSON and the table).
public struct ApproxReport: Sendable {
    public let result: ApproximationResult
    public let options: ApproximationOptions
    public let scale: Scale
    public let heads: Int, queries: Int, keys: Int, d: Int
    /// max |T − Att| on the rows measured.
    public let maxAbsError: Double
    /// The rows measured per head, or nil for all rows.
    public let measuredRows: [Int]?
    /// The approximation T with Q's leading axes (`[batch, heads, n_q, d_v]` for 4-D Q).
    public let output: Tensor<Double>

    /// - Parameter rows: the rows to measure on (default: `ErrorRows.automatic`).
    public init(
        q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, scale: Scale, options: ApproximationOptions,
        rows: ErrorRows? = nil
    ) throws {
        result = try Approximation.run(q: q, k: k, v: v, scale: scale, options: options)
        let measure = rows ?? .automatic(queries: q.rows, keys: k.rows)
        (maxAbsError, measuredRows) = try MeasuredError.maxAbsError(
            approximation: result.output, q: q, k: k, v: v, scale: scale, rows: measure, seed: options.seed)
        (self.options, self.scale, heads, queries, keys, d) = (options, scale, q.heads, q.rows, k.rows, q.cols)
        output = result.output.withLeadingAxes(of: q)
    }

    /// The approximation of a problem read from files (K and V expanded to Q's heads, GQA).
    public init(
        _ problem: AttentionTensors<Double>, scale: Scale, options: ApproximationOptions,
        rows: ErrorRows? = nil
    ) throws {
        let (k, v) = problem.expandedKV
        try self.init(q: problem.q, k: k, v: v, scale: scale, options: options, rows: rows)
    }

    /// Both outputs as one report (`command` "approx"); a poly bound below the measured
    /// error is a failed check (exit 1), as in `demo`.
    public func report(out: String) -> RunReport {
        let violated = options.method == .poly && !(maxAbsError <= (result.maxErrorBound ?? .infinity))
        let failure =
            violated
            ? AttnError.checkFailed(
                "measured max|T − Att| \(maxAbsError) exceeds the a-priori bound "
                    + "\(result.maxErrorBound ?? .nan)") : nil
        return RunReport(command: "approx", text: [text(out: out)], json: json(out: out), failure: failure)
    }

    var rank: Int { result.heads.map(\.rank).max() ?? 0 }
    var degree: Int? { result.heads.compactMap(\.degree).max() }
    var radius: Double { result.heads.map(\.radius).max() ?? 0 }
    var relativeErrorBound: Double { result.heads.compactMap(\.certifiedRelativeError).max() ?? .nan }

    /// The JSON object; `out` is the file the output was written to.
    public func json(out: String) -> JSONValue {
        let seed = options.seed
        var kv: [(String, JSONValue)] = [
            ("method", .string(options.method.rawValue)), ("scale", .string(scale.description)),
            ("heads", .int(heads)), ("n_q", .int(queries)), ("n_k", .int(keys)), ("d", .int(d)),
            ("seed", seed <= UInt64(Int.max) ? .int(Int(seed)) : .string(String(seed))),
            ("rank", .int(rank)), ("radius", .double(radius)), ("max_abs_error", .double(maxAbsError)),
            ("error_rows", measuredRows.map { .array($0.map { .int($0) }) } ?? .string("all")),
        ]
        if let degree { kv += [("degree", .int(degree)), ("family", .string(options.family.rawValue))] }
        if let b = result.maxErrorBound { kv.append(("max_error_bound", .double(b))) }
        if options.method == .poly { kv.append(("relative_error_bound", .double(relativeErrorBound))) }
        kv.append(("max_relative_entry_error", result.maxRelativeEntryError.map { .double($0) } ?? .null))
        kv.append(("out", .string(out)))
        return .object(kv)
    }

    public func text(out: String) -> String {
        let sci = TextFormat.sci
        var lines = [
            "approx: method = \(options.method.rawValue), scale = \(scale), heads = \(heads), n_q = \(queries), "
                + "n_k = \(keys), d = \(d), seed = \(options.seed)",
            "  rank r                        \(rank)"
                + (degree.map { "   (degree g = \($0), \(options.family.rawValue))" } ?? ""),
            "  score radius R                \(sci(radius))",
        ]
        if options.method == .poly {
            let b = result.maxErrorBound
            lines += [
                "  certified rel. error of P̂    \(sci(relativeErrorBound))",
                "  a-priori bound max|T − Att|   \(sci(b ?? .nan))  "
                    + "(\(maxAbsError <= (b ?? .infinity) ? "holds" : "VIOLATED"))",
            ]
        }
        lines += [
            "  measured max|T − Att|         \(sci(maxAbsError))"
                + (measuredRows.map { "   (on \($0.count) sampled rows per head)" } ?? ""),
            "  max rel. entry error of Ã     \(result.maxRelativeEntryError.map(sci) ?? "not measured (n_q·n_k > 2048²)")",
            "  wrote \(out)",
        ]
        return lines.joined(separator: "\n")
    }
}
