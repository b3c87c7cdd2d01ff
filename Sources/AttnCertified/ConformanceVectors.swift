import AttnCore
import Foundation

/// Writes the certified conformance vectors: for each case a folder
/// `DIR/<name>/` with `q.npy`, `k.npy`, `v.npy` (in the case's dtype),
/// `lo.npy`, `hi.npy` (float64, rounded outward from the certified
/// enclosure, so lo ≤ exact ≤ hi entrywise), the row log-sum-exp enclosed in
/// both bases (`lse_lo.npy`, `lse_hi.npy` natural log, `lse2_lo.npy`,
/// `lse2_hi.npy` base 2, [heads, n_q] float64), the score model's files
/// (`mask.npy`, `bias.npy`, `sinks.npy`) and `case.json` (the model and, given a front end's
/// `spelling` of each parameter, `verify_args`: the arguments that replay the case); then
/// `DIR/index.json` listing them.
///
/// Atomicity: each case is written into a temporary folder and renamed into
/// place; `index.json` is written last (temp + rename), so a reader that
/// finds the index finds every case it lists complete.
public enum ConformanceVectors {
    /// - Returns: the case names written, in index order.
    /// - Throws: `AttnError.usage` if `directory` cannot be created or written.
    @discardableResult
    ///   `custom` (`ConformanceCases.custom`) is written after the documented set.
    public static func write(
        to directory: URL, precision: Int = 256, seed: UInt64 = 0,
        threads: Int? = nil, custom: ConformanceCase? = nil, spelling: ((Parameter) -> String)? = nil
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
        for c in ConformanceCases.all(seed: seed) + (custom.map { [$0] } ?? []) {
            let result = try CertifiedAttention.compute(
                q: c.q, k: c.k, v: c.v, scale: c.scale, scoreModel: c.scoreModel,
                precision: precision, threads: threads)
            let final = directory.appendingPathComponent(c.name)
            let tmp = directory.appendingPathComponent(".\(c.name).\(getpid()).tmp")
            try? fm.removeItem(at: tmp)
            do {
                try fm.createDirectory(at: tmp, withIntermediateDirectories: false)
                // Shaped as the inputs: Q's leading axes (a batch axis for 4-D Q) × n_q (× d_v).
                let (lo, hi) = (result.lower.withLeadingAxes(of: c.q), result.upper.withLeadingAxes(of: c.q))
                let (lseLo, lseHi) = (
                    Self.rowShaped(result.lseLower, like: c.q), Self.rowShaped(result.lseUpper, like: c.q)
                )
                let (lse2Lo, lse2Hi) = Self.base2(lseLo, lseHi)
                var files: [(String, Tensor<Double>, Npy.DType)] = [
                    ("q", c.q, c.dtype), ("k", c.k, c.dtype), ("v", c.v, c.dtype),
                    ("lo", lo, Npy.DType.float64), ("hi", hi, Npy.DType.float64),
                    ("lse_lo", lseLo, .float64), ("lse_hi", lseHi, .float64),
                    ("lse2_lo", lse2Lo, .float64), ("lse2_hi", lse2Hi, .float64),
                ]
                let (model, replay, termFiles) = Self.describe(c.scoreModel)
                files += termFiles
                if let m = c.scoreModel.mask.explicit {
                    try AtomicFile.write(Npy.encodeMask(m), to: tmp.appendingPathComponent("mask.npy"))
                }
                for (file, tensor, dtype) in files {
                    try AtomicFile.write(
                        Npy.encode(tensor, dtype: dtype), to: tmp.appendingPathComponent("\(file).npy"))
                }
                // The arguments that replay the case, as the front end spells them (flag, then value if any).
                let replayField: [(String, JSONValue)] =
                    spelling.map { name in
                        let args = replay.flatMap { p, value in [name(p)] + (value.map { [$0] } ?? []) }
                        return [("verify_args", .array(args.map { .string($0) }))]
                    } ?? []
                let description = JSONValue.object(
                    [
                        ("name", .string(c.name)), ("description", .string(c.description)),
                        ("scale", .string(c.scale.description)), ("causal", .bool(c.scoreModel.mask.isCausal)),
                        ("dtype", .string(c.dtype.rawValue)), ("precision_bits", .int(precision)),
                        ("seed", .int(Int(truncatingIfNeeded: seed))),
                        ("q_shape", .array(c.q.shape.map { .int($0) })),
                        ("k_shape", .array(c.k.shape.map { .int($0) })),
                        ("v_shape", .array(c.v.shape.map { .int($0) })),
                        ("out_shape", .array(lo.shape.map { .int($0) })),
                        ("max_width_bound", .double(result.maxWidth)),
                        ("score_model", model),
                    ] + replayField + [
                        (
                            "files",
                            .object([
                                ("q", "q.npy"), ("k", "k.npy"), ("v", "v.npy"), ("lo", "lo.npy"),
                                ("hi", "hi.npy"), ("lse_lo", "lse_lo.npy"), ("lse_hi", "lse_hi.npy"),
                                ("lse2_lo", "lse2_lo.npy"), ("lse2_hi", "lse2_hi.npy"),
                            ])
                        ),
                        (
                            "guarantee",
                            .string(
                                "lo <= exact attention <= hi and lse_lo <= LSE <= lse_hi entrywise, of the inputs' "
                                    + "exact values under score_model; a row with no visible key is 0 with LSE -inf")
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
    /// Writes the set, and `custom` after it, into the folder `path` (`write`) and reports the cases written;
    /// with `spelling` (a front end's name of each parameter) each case.json gains `verify_args`.
    public static func run(
        to path: String, precision: Int = 256, seed: UInt64 = 0, custom: ConformanceCase? = nil,
        spelling: ((Parameter) -> String)? = nil
    ) throws -> RunReport {
        let names = try write(
            to: URL(fileURLWithPath: path), precision: precision, seed: seed, custom: custom, spelling: spelling)
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

extension ConformanceVectors {
    /// The base-2 LSE enclosure: each end divided by ln 2 ∈ [ln2Lo, ln2Hi], rounded outward
    /// (Proofs/certified-lse.md §3); −∞ stays −∞.
    static func base2(_ lo: Tensor<Double>, _ hi: Tensor<Double>) -> (Tensor<Double>, Tensor<Double>) {
        var (l, u) = (lo, hi)
        for e in 0..<lo.count {
            let (a, b) = (lo[flat: e], hi[flat: e])
            l[flat: e] = a >= 0 ? Directed.divDown(a, LSEVerdict.ln2Hi) : Directed.divDown(a, LSEVerdict.ln2Lo)
            u[flat: e] = b >= 0 ? Directed.div(b, LSEVerdict.ln2Lo) : Directed.div(b, LSEVerdict.ln2Hi)
            if a == -.infinity { (l[flat: e], u[flat: e]) = (-.infinity, -.infinity) }
        }
        return (l, u)
    }

    /// Per-row values [heads, n_q] as [batch, heads, n_q] when Q is 4-D.
    static func rowShaped(_ t: Tensor<Double>, like q: Tensor<Double>) -> Tensor<Double> {
        q.logicalRank < 4
            ? t : Tensor(heads: q.batch, rows: q.headsPerBatch, cols: q.rows, storage: t.storage, logicalRank: 3)
    }

    /// The score model as case.json records it, the arguments that replay it (by parameter, each with its
    /// value if it takes one), and its files (bias and sinks as float64 .npy; an explicit mask as a bool
    /// mask.npy, and in case.json as 0/1 rows).
    static func describe(
        _ m: ScoreModel
    ) -> (JSONValue, [(Parameter, String?)], [(String, Tensor<Double>, Npy.DType)]) {
        var fields: [(String, JSONValue)] = [("align", .string(m.mask.alignment.rawValue))]
        var replay: [(Parameter, String?)] = [(.align, m.mask.alignment.rawValue)]
        var files: [(String, Tensor<Double>, Npy.DType)] = []
        if let w = m.mask.window {
            fields.append(("window", .string(w.description)))
            replay.append(w == .causal ? (.causal, nil) : (.window, w.description))
        }
        if let e = m.mask.explicit {
            let cols = e.shape.last ?? 1
            let visible = (0..<e.values.count / max(cols, 1)).map { r in
                JSONValue.array((0..<cols).map { .int(e.values[r * cols + $0] ? 1 : 0) })
            }
            fields.append(
                ("mask", .object([("shape", .array(e.shape.map { .int($0) })), ("visible", .array(visible))])))
            replay.append((.mask, "mask.npy"))
        }
        if let c = m.softcap { fields.append(("softcap", .double(c))); replay.append((.softcap, "\(c)")) }
        if let s = m.alibiSlopes {
            fields.append(("alibi", .array(s.values.map { .double($0) })))
            replay.append((.alibi, s.values.map { "\($0)" }.joined(separator: ",")))
        }
        if let b = m.bias {
            fields.append(("bias", .string("bias.npy")))
            replay.append((.bias, "bias.npy"))
            files.append(("bias", Self.tensor(b.values, shape: b.shape), .float64))
        }
        if let s = m.sinks {
            fields.append(("sinks", .array(s.values.map { .double($0) })))
            replay.append((.sinks, "sinks.npy"))
            files.append(("sinks", Self.tensor(s.values, shape: s.shape), .float64))
        }
        return (.object(fields), replay, files)
    }

    /// `values` as a Tensor of NumPy shape `shape` (rank 1 to 4).
    static func tensor(_ values: [Double], shape: [Int]) -> Tensor<Double> {
        switch shape.count {
        case 1: return Tensor(rows: 1, cols: shape[0], storage: values, logicalRank: 1)
        case 2: return Tensor(rows: shape[0], cols: shape[1], storage: values)
        case 3: return Tensor(heads: shape[0], rows: shape[1], cols: shape[2], storage: values)
        default:
            return Tensor(
                heads: shape[0] * shape[1], rows: shape[2], cols: shape[3], storage: values, logicalRank: 4,
                batch: shape[0], headsPerBatch: shape[1])
        }
    }
}
