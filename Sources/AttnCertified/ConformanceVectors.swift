import AttnCore
import Foundation

/// Writes the certified conformance vectors: for each case a folder
/// `DIR/<name>/` with `q.npy`, `k.npy`, `v.npy` (in the case's dtype),
/// `lo.npy`, `hi.npy` (float64, rounded outward from the certified
/// enclosure, so lo ≤ exact ≤ hi entrywise) and `case.json`; then
/// `DIR/index.json` listing them.
///
/// Atomicity: each case is written into a temporary folder and renamed into
/// place; `index.json` is written last (temp + rename), so a reader that
/// finds the index finds every case it lists complete.
public enum ConformanceVectors {
    /// - Returns: the case names written, in index order.
    /// - Throws: `AttnError.usage` if `directory` cannot be created or written.
    @discardableResult
    public static func write(
        to directory: URL, precision: Int = 256, seed: UInt64 = 0,
        threads: Int? = nil
    ) throws -> [String] {
        try Parameter.precision.require(precision, in: CertifiedAttention.precisionRange)
        let fm = FileManager.default
        do { try fm.createDirectory(at: directory, withIntermediateDirectories: false) } catch {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
                throw AttnError.usage(.output, "\(directory.path): cannot create the folder (does its parent exist?)")
            }
        }
        var entries: [JSONValue] = []
        var names: [String] = []
        for c in ConformanceCases.all(seed: seed) {
            let result = try CertifiedAttention.compute(
                q: c.q, k: c.k, v: c.v, scale: c.scale, scoreModel: c.scoreModel,
                precision: precision, threads: threads)
            let final = directory.appendingPathComponent(c.name)
            let tmp = directory.appendingPathComponent(".\(c.name).\(getpid()).tmp")
            try? fm.removeItem(at: tmp)
            do {
                try fm.createDirectory(at: tmp, withIntermediateDirectories: false)
                for (file, tensor, dtype) in [
                    ("q", c.q, c.dtype), ("k", c.k, c.dtype), ("v", c.v, c.dtype),
                    ("lo", result.lower, Npy.DType.float64),
                    ("hi", result.upper, Npy.DType.float64),
                ] {
                    try AtomicFile.write(
                        Npy.encode(tensor, dtype: dtype), to: tmp.appendingPathComponent("\(file).npy"))
                }
                let description = JSONValue.object([
                    ("name", .string(c.name)), ("description", .string(c.description)),
                    ("scale", .string(c.scale.description)), ("causal", .bool(c.scoreModel.mask.isCausal)),
                    ("dtype", .string(c.dtype.rawValue)), ("precision_bits", .int(precision)),
                    ("seed", .int(Int(truncatingIfNeeded: seed))),
                    ("q_shape", .array(c.q.shape.map { .int($0) })), ("k_shape", .array(c.k.shape.map { .int($0) })),
                    ("v_shape", .array(c.v.shape.map { .int($0) })),
                    ("out_shape", .array(result.lower.shape.map { .int($0) })),
                    ("max_width_bound", .double(result.maxWidth)),
                    (
                        "files",
                        .object([
                            ("q", "q.npy"), ("k", "k.npy"), ("v", "v.npy"), ("lo", "lo.npy"),
                            ("hi", "hi.npy"),
                        ])
                    ),
                    (
                        "guarantee",
                        "lo <= exact attention <= hi entrywise; exact = D^-1 A V of the inputs' exact values"
                    ),
                ])
                try AtomicFile.write(description.serialized() + "\n", to: tmp.appendingPathComponent("case.json"))
                try? fm.removeItem(at: final)
                guard rename(tmp.path, final.path) == 0 else {
                    throw AttnError.usage(.output, "\(final.path): cannot rename the case folder into place")
                }
            } catch {
                try? fm.removeItem(at: tmp)
                throw error
            }
            names.append(c.name)
            entries.append(
                .object([
                    ("name", .string(c.name)), ("path", .string(c.name + "/")),
                    ("description", .string(c.description)),
                ]))
        }
        let index = JSONValue.object([
            ("attnbound_vectors", .int(1)), ("precision_bits", .int(precision)),
            ("seed", .int(Int(truncatingIfNeeded: seed))), ("cases", .array(entries)),
        ])
        try AtomicFile.write(index.serialized() + "\n", to: directory.appendingPathComponent("index.json"))
        return names
    }
}

extension ConformanceVectors {
    /// Writes the set into the folder `path` (`write`) and reports the cases written.
    public static func run(to path: String, precision: Int = 256, seed: UInt64 = 0) throws -> RunReport {
        let names = try write(to: URL(fileURLWithPath: path), precision: precision, seed: seed)
        let json = JSONValue.object([
            ("out", .string(path)), ("cases", .array(names.map { .string($0) })), ("precision_bits", .int(precision)),
            ("seed", .int(Int(truncatingIfNeeded: seed))),
        ])
        let text =
            ["wrote \(names.count) certified cases (\(precision) bits, seed \(seed)) to \(path):"]
            + names.map { "  \($0)" }
        return RunReport(command: "vectors", seed: seed, text: text, json: json)
    }
}
