import AttnCore
import AttnKernels
import Foundation

/// `attnbound merge`: joins the shard CSVs of one sweep into exactly the file
/// a single run writes.
///
/// Shard i of N holds the points with index ≡ i−1 (mod N), each point's rows
/// in measurement order. A single run writes all points in index order, so
/// ordering the union by point index (stably) reproduces it byte for byte.
public enum SweepMerge {
    public struct Shard: Sendable {
        public let csv: URL
        public let fingerprint: String
        public let index: Int
        public let count: Int
        public let pointsTotal: Int
        let sidecar: JSONValue
    }

    /// Reads a shard CSV's sidecar (same stem, `.json`).
    static func shard(_ csv: URL) throws -> Shard {
        let json = csv.deletingPathExtension().appendingPathExtension("json")
        guard let data = FileManager.default.contents(atPath: json.path) else {
            throw AttnError.usage("\(csv.path): its sidecar \(json.lastPathComponent) is missing (merge needs it)")
        }
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let fp = obj["fingerprint"] as? String, let sh = obj["shard"] as? [String: Any],
            let i = sh["index"] as? Int, let n = sh["count"] as? Int, let total = obj["points_total"] as? Int
        else {
            throw AttnError.usage("\(json.path): not a sweep sidecar")
        }
        return Shard(csv: csv, fingerprint: fp, index: i, count: n, pointsTotal: total, sidecar: JSONValue(any: obj))
    }

    /// Merges `inputs` into `output` (+ its sidecar), atomically.
    ///
    /// - Throws: `AttnError.usage` if the shards come from different sweeps,
    ///   a shard is missing or repeated, a row sits in the wrong shard, or a
    ///   point is missing.
    /// - Returns: the merged CSV text.
    @discardableResult
    public static func merge(_ inputs: [URL], into output: URL, version: String) throws -> String {
        guard !inputs.isEmpty else { throw AttnError.usage("merge: no input CSV given") }
        let shards = try inputs.map(shard)
        let first = shards[0]
        for s in shards
        where s.fingerprint != first.fingerprint || s.count != first.count || s.pointsTotal != first.pointsTotal {
            throw AttnError.usage(
                "\(s.csv.path): comes from a different sweep than \(first.csv.path) (parameters, seed or shard count differ)"
            )
        }
        var seen = Set<Int>()
        for s in shards where !seen.insert(s.index).inserted {
            throw AttnError.usage("\(s.csv.path): shard \(s.index)/\(s.count) given twice")
        }
        if let missing = (1...first.count).first(where: { !seen.contains($0) }) {
            throw AttnError.usage("merge: shard \(missing)/\(first.count) is missing")
        }

        var header: String?
        var rows: [(point: Int, order: Int, line: String)] = []
        var points = Set<Int>()
        for s in shards {
            guard let data = FileManager.default.contents(atPath: s.csv.path) else {
                throw AttnError.usage("\(s.csv.path): cannot read")
            }
            let table = try SweepTable(csv: String(decoding: data, as: UTF8.self), source: s.csv.path)
            if let h = header, h != table.header {
                throw AttnError.usage("\(s.csv.path): header differs from the other shards")
            }
            header = table.header
            for (r, line) in zip(table.records, table.lines) {
                guard r.point % s.count == s.index - 1, r.point < s.pointsTotal else {
                    throw AttnError.usage(
                        "\(s.csv.path): point \(r.point) does not belong to shard \(s.index)/\(s.count)")
                }
                points.insert(r.point)
                rows.append((r.point, rows.count, line))
            }
        }
        if points.count != first.pointsTotal {
            let missing = (0..<first.pointsTotal).first { !points.contains($0) } ?? -1
            throw AttnError.usage(
                "merge: point \(missing) is missing (\(points.count) of \(first.pointsTotal) present); was a shard incomplete?"
            )
        }
        rows.sort { ($0.point, $0.order) < ($1.point, $1.order) }
        let text = header! + rows.map(\.line).joined()
        let table = try SweepTable(csv: text, source: output.path)
        let sidecar = Sidecar(
            command: "merge", parameters: .object([("inputs", .array(inputs.map { .string($0.path) }))]),
            seed: nil,
            extra: [
                ("fingerprint", .string(first.fingerprint)),
                ("shard", .object([("index", 1), ("count", 1)])),
                ("points_total", .int(first.pointsTotal)),
                ("merged_from", .array(shards.map(\.sidecar))),
                ("summary", SweepSummary(table: table).json),
            ], version: version)
        try sidecar.write(csv: text, to: output)
        return text
    }

    /// `merge` as one call: checks that `output` is a .csv and that every input exists, merges
    /// (`merge(_:into:version:)`) and reports what was written.
    public static func run(_ inputs: [String], into output: String, version: String) throws -> RunReport {
        guard output.hasSuffix(".csv") else { throw AttnError.usage(.output, "\(output): must end in .csv") }
        for p in inputs where !FileManager.default.fileExists(atPath: p) { throw AttnError.usage("\(p): no such file") }
        let text = try merge(
            inputs.map { URL(fileURLWithPath: $0) }, into: URL(fileURLWithPath: output), version: version)
        let rows = text.split(separator: "\n").count - 1
        let summary = "merged \(inputs.count) shard\(inputs.count == 1 ? "" : "s") into \(output) (\(rows) rows)"
        return RunReport(command: "merge", summary: [("rows", .int(rows))], text: [summary])
    }
}

extension JSONValue {
    /// From a Foundation JSON object (keys sorted, since dictionaries have no order).
    init(any x: Any) {
        switch x {
        case let s as String: self = .string(s)
        case let n as NSNumber:
            let v = n.doubleValue
            self = v == v.rounded() && abs(v) < 1e15 ? .int(n.intValue) : .double(v)
        case let a as [Any]: self = .array(a.map(JSONValue.init(any:)))
        case let o as [String: Any]: self = .object(o.keys.sorted().map { ($0, JSONValue(any: o[$0]!)) })
        default: self = .null
        }
    }
}
