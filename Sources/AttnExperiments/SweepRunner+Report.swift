import AttnCore
import Foundation

extension SweepRunner {
    /// The JSON object of a finished run: files, points, time, summary.
    public func json(_ r: SweepResult, svg: String?) throws -> JSONValue {
        .object([
            ("csv", .string(r.csv.path)), ("sidecar", .string(r.sidecar.path)),
            ("svg", svg.map { .string($0) } ?? .null), ("seed", .string(String(configuration.seed))),
            ("points_total", .int(r.pointsTotal)), ("points_in_shard", .int(r.pointsInShard)),
            ("points_measured", .int(r.pointsMeasured)), ("wall_seconds", .double(r.wallSeconds)),
            ("summary", try summary(r).json),
        ])
    }

    /// The lines printed as text: what ran, what was written, the summary.
    public func text(_ r: SweepResult, svg: String?) throws -> String {
        let cfg = configuration, sh = shard
        let dRule = cfg.fixedD.map { "d = \($0) fixed" } ?? "d = ⌈\(formatShortest(cfg.dConstant))·ln n⌉"
        let head =
            "sweep\(sh.isWhole ? "" : " shard \(sh)"): \(r.pointsInShard) points (\(r.pointsMeasured) measured, "
            + "\(r.pointsInShard - r.pointsMeasured) resumed) in \(String(format: "%.1f", r.wallSeconds)) s "
            + "on \(threads) thread\(threads == 1 ? "" : "s"); seed \(cfg.seed); \(dRule); "
            + "ε = n^-\(formatShortest(cfg.epsilonPower)); backend \(backend.name)"
        let wrote = "wrote " + ([r.csv.path, r.sidecar.path] + (svg.map { [$0] } ?? [])).joined(separator: ", ")
        return ([head, wrote] + (try summary(r).lines)).joined(separator: "\n")
    }

    func summary(_ r: SweepResult) throws -> SweepSummary {
        SweepSummary(table: try SweepTable(csv: r.csvText, source: r.csv.path))
    }
}
