import AttnCore
import Foundation

/// `verify` as one request: certify one or several candidate attention outputs computed
/// anywhere, entry by entry, against the exact truth of the problem in `q`, `k`, `v`
/// (`TieredVerification`), all candidates sharing the one certified truth; with the kernel
/// accuracy figures (`AccuracyTally`) for each.
public struct VerifyRequest: Sendable {
    /// Q, K, V (and, as role `o`, the candidate) by file: `PATH`, `PATH:NAME`, or a tensor file.
    public var files: TensorFiles
    /// Candidate entries, each `PATH`, `PATH:NAME` or `LABEL=PATH[:NAME]`; an archive without a
    /// name gives its tensors `o` and `o_*`. Empty: the `o` (or every `o_*`) of `files.file`.
    public var candidates: [String]
    /// fp8 dequantization factors of Q, K, V (`Descale`); the truth is the dequantized problem's.
    public var descale: (q: Descale?, k: Descale?, v: Descale?) = (nil, nil, nil)
    public var scale: Scale = .standard
    /// What attention computes (`ScoreModel`).
    public var scoreModel = ScoreModel.plain
    /// The plain absolute tolerance, or the torch-style `atol` + `rtol`·|truth| (not both);
    /// none given: 1e-6 absolute, unless `maxFloorRatio` is the criterion.
    public var tolerance: Double?, atol: Double?, rtol: Double?
    /// Judge the candidates as this type T instead of their storage type (bf16 values saved as
    /// float32); every value must then be a value of T.
    public var candidateType: StorageType?
    /// Pass iff every candidate's certified max error ≤ this × its certified rounding floor.
    public var maxFloorRatio: Double?
    public var engine: VerifyEngine = .auto
    /// Query heads (within each batch entry) to certify; nil: all.
    public var heads: Range<Int>?
    public var precision = 256
    public var threads: Int?
    /// A row log-sum-exp `.npy` to certify beside the output ([batch, heads, n_q], [heads, n_q] or
    /// [n_q], optionally with a trailing 1), its base, and its absolute tolerance (default 1e-5:
    /// a float32 LSE near 10 has an ulp of 9.5e-7).
    public var lseCandidate: String?
    public var lseBase = LSEBase.e
    public var lseAtol: Double?

    public init(files: TensorFiles, candidates: [String] = []) { (self.files, self.candidates) = (files, candidates) }

    public init(q: String, k: String, v: String, candidate: String) {
        self.init(files: TensorFiles(explicit: ["q": q, "k": k, "v": v]), candidates: [candidate])
    }

    /// True when the user set a tolerance (else 1e-6 is only the default).
    public var toleranceGiven: Bool { tolerance != nil || atol != nil || rtol != nil }

    /// - Throws: `AttnError.usage` naming the parameter out of range.
    public func validate() throws {
        try Parameter.precision.require(precision, in: CertifiedAttention.precisionRange)
        for (p, x) in [(Parameter.tolerance, tolerance), (.atol, atol), (.rtol, rtol)] {
            if let x { try p.require(x.isFinite && x >= 0, "must be finite and ≥ 0") }
        }
        try Parameter.tolerance.require(
            tolerance == nil || (atol == nil && rtol == nil), "give it or atol/rtol, not both")
        if let r = maxFloorRatio { try Parameter.maxFloorRatio.require(r.isFinite && r >= 1, "must be finite and ≥ 1") }
        if let a = lseAtol {
            try Parameter.lseAtol.require(a.isFinite && a >= 0, "must be finite and ≥ 0")
            try Parameter.lseAtol.require(lseCandidate != nil, "needs an LSE candidate")
        }
        try Parameter.lseCandidate.require(lseCandidate != nil || lseBase == .e, "a base needs an LSE candidate")
        for (p, d) in [(Parameter.qDescale, descale.q), (.kDescale, descale.k), (.vDescale, descale.v)] {
            try d?.validate(parameter: p)
        }
    }

    /// The LSE candidate (`PATH` or `FILE:NAME`) read and checked against the problem's shape, or nil.
    /// - Throws: `AttnError.usage(.lseCandidate, …)` naming the file.
    /// With a tensor file and no explicit LSE, the file's `lse` is certified when it holds one.
    func readLSE(shape: AttentionShape) throws -> LSECandidate? {
        guard let path = try lseCandidate ?? files.source("lse", required: false)?.description else { return nil }
        do {
            let t: StoredTensor<Double> = try TensorFile.read(TensorSource(parsing: path))
            return try LSECandidate(t.tensor, shape: shape, base: lseBase, atol: lseAtol ?? 1e-5)
        } catch let e as AttnError {
            throw AttnError.usage(.lseCandidate, "\(path): \(e.message)")
        }
    }

    /// The tolerances, engine, heads, precision and threads as `TieredVerification` takes them.
    public var options: VerifyOptions {
        var o = VerifyOptions(atol: atol ?? tolerance ?? (rtol == nil ? 1e-6 : 0), rtol: rtol ?? 0)
        (o.engine, o.heads, o.precision, o.threads) = (engine, heads, precision, threads)
        return o
    }

    /// One candidate to read: its label and where it is.
    public struct CandidateEntry: Sendable, Equatable {
        public var label: String
        public var source: TensorSource
    }

    /// The candidates named by `candidates` (or by `files`), archives expanded to their outputs.
    /// - Throws: `AttnError.usage(.candidate, …)` when there is none or an archive holds no output.
    public func candidateEntries() throws -> [CandidateEntry] {
        var out: [CandidateEntry] = []
        var texts = candidates
        if texts.isEmpty {
            if let o = files.explicit["o"] {
                texts = [o]
            } else if let f = files.file {
                texts = [files.names["o"].map { "o=\(f):\($0)" } ?? f]
            } else {
                throw AttnError.usage(.candidate, "missing: give a candidate output, or a tensor file holding 'o'")
            }
        }
        for text in texts {
            var label: String?, rest = text
            if let eq = text.firstIndex(of: "="), !FileManager.default.fileExists(atPath: text),
                !text[..<eq].contains("/")
            {
                (label, rest) = (String(text[..<eq]), String(text[text.index(after: eq)...]))
            }
            let source = TensorSource(parsing: rest)
            if source.name == nil, case let names = try TensorFile.names(in: source.path), !names.isEmpty {
                let outputs = names.filter { $0 == "o" || $0.hasPrefix("o_") }.sorted()
                guard !outputs.isEmpty else {
                    throw AttnError.usage(.candidate, "\(source.path): holds no output 'o' or 'o_*' (give PATH:NAME)")
                }
                for n in outputs {
                    let l =
                        outputs.count == 1
                        ? (label ?? n) : (label.map { "\($0)_" } ?? "") + (n == "o" ? "o" : String(n.dropFirst(2)))
                    out.append(CandidateEntry(label: l, source: TensorSource(path: source.path, name: n)))
                }
                continue
            }
            let stem = URL(fileURLWithPath: source.path).deletingPathExtension().lastPathComponent
            out.append(CandidateEntry(label: label ?? source.name ?? stem, source: source))
        }
        return out
    }

    /// One candidate's outcome.
    public struct CandidateResult: Sendable {
        public var entry: CandidateEntry
        /// The type T the candidate is judged in (its storage type, or `candidateType`).
        public var type: StorageType
        public var verification: TieredVerificationReport
        public var accuracy: AccuracyTally
        /// The certified enclosure of max|c − y| / max|RN_T(y) − y|.
        public var floorRatio: (lo: Double, hi: Double) {
            accuracy.floorRatio(maxErrorBound: verification.maxErrorBound)
        }
    }

    /// Reads the problem and the candidates and certifies them all against one truth.
    /// - Throws: `AttnError.usage` for invalid parameters or inputs (a candidate of the wrong
    ///   shape, or not of `candidateType`, names its path).
    public func evaluate(note: @escaping @Sendable (String) -> Void = { _ in }) throws -> [CandidateResult] {
        try validate()
        let problem = try AttentionTensors<Double>(files: files, descale: descale)  // every dtype widens exactly
        let entries = try candidateEntries()
        var inputs: [VerifyCandidate] = [], types: [StorageType] = []
        for e in entries {
            let c: StoredTensor<Double>
            do { c = try TensorFile.read(e.source) } catch let err as AttnError {
                throw AttnError.usage(.candidate, err.message)
            }
            let type = candidateType ?? c.storage
            if candidateType != nil,
                let i = c.tensor.storage.firstIndex(where: { !type.format.contains($0) && !$0.isNaN })
            {
                throw AttnError.usage(
                    .candidateType,
                    "\(e.source): value \(c.tensor.storage[i]) at flat index \(i) is not a \(type.rawValue)")
            }
            do {
                try TieredVerification.checkShape(c.tensor, shape: problem.shape, q: problem.q, prefix: "")
            } catch let err as AttnError { throw AttnError.usage(.candidate, "\(e.source): \(err.message)") }
            inputs.append(VerifyCandidate(c.tensor, format: type.format))
            types.append(type)
        }
        var opts = options
        opts.lse = try readLSE(shape: problem.shape)
        let outcomes = try TieredVerification.run(
            q: problem.q, k: problem.k, v: problem.v, candidates: inputs, scale: scale, scoreModel: scoreModel,
            options: opts, progress: RowProgress.throttled("verify", note: note))
        return zip(entries, zip(types, outcomes)).map { e, to in
            CandidateResult(entry: e, type: to.0, verification: to.1.verification, accuracy: to.1.accuracy!)
        }
    }

    /// Reads the files and certifies; `note` receives progress lines (`RowProgress`).
    /// - Returns: the report of the worst candidate, with every candidate under `candidates` in its
    ///   JSON; its failure is set unless every candidate certifiably meets the criterion (the
    ///   tolerance, and/or `maxFloorRatio`).
    public func run(note: @escaping @Sendable (String) -> Void = { _ in }) throws -> RunReport {
        report(try evaluate(note: note))
    }

    /// The run's report from the candidates' results (text, JSON, failure).
    public func report(_ results: [CandidateResult]) -> RunReport {
        let worst = results.indices.max { a, b in
            let (x, y) = (results[a], results[b])
            return (x.floorRatio.hi, x.verification.maxErrorBound) < (y.floorRatio.hi, y.verification.maxErrorBound)
        }!
        let w = results[worst].verification
        var extra: [(String, JSONValue)] = [
            ("engine", .string(engine.rawValue)), ("precision_bits", .int(precision)),
            ("scale", .string(scale.description)), ("causal", .bool(scoreModel.mask.isCausal)),
            ("candidate", .string(results[worst].entry.source.description)),
        ]
        if let r = maxFloorRatio { extra.append(("max_floor_ratio", .double(r))) }
        if let l = lseCandidate { extra.append(("lse_candidate", .string(l))) }
        extra.append(("candidates", .array(results.map { .object($0.jsonFields) })))
        var text = [results.count > 1 ? "worst candidate: \(results[worst].entry.label)\n" + w.text : w.text]
        var failures: [String] = []
        var pointers: [Parameter] = []
        let checkTolerance = toleranceGiven || maxFloorRatio == nil
        if let l = results[0].verification.lse, !l.passed {
            failures.append("LSE: \(l.failing) of \(l.entries) rows fail, \(l.undecided) undecided")
        }
        for r in results {
            if checkTolerance && (r.verification.failing > 0 || r.verification.undecided > 0) {
                failures.append(
                    "\(r.entry.label): \(r.verification.failing) of \(r.verification.entries) entries certifiably "
                        + "exceed the tolerance, \(r.verification.undecided) are undecided")
                if !toleranceGiven && maxFloorRatio == nil && [.float16, .bfloat16].contains(r.type) {
                    text.append(
                        "note: \(r.entry.label) is \(r.type.rawValue): the default tolerance 1e-6 is below its own rounding "
                            + "(rounding floor max|RN(y) − y| ≤ \(TextFormat.bound(r.accuracy.floorUpper))); its error is "
                            + "within \(TextFormat.bound(r.floorRatio.hi))× that floor. Judge it by its ratio to that "
                            + "floor (FlashAttention's rule: at most 2), or give a tolerance of its own.")
                    pointers = [.maxFloorRatio, .tolerance, .atol, .rtol]
                }
            }
            if let limit = maxFloorRatio, !(r.floorRatio.hi <= limit) {
                failures.append(
                    "\(r.entry.label): error / rounding floor ∈ [\(TextFormat.bound(r.floorRatio.lo)), "
                        + "\(TextFormat.bound(r.floorRatio.hi))], not certifiably ≤ \(formatShortest(limit))")
            }
        }
        if let limit = maxFloorRatio {
            text.append("max floor ratio \(formatShortest(limit)): \(failures.isEmpty ? "PASS" : "FAIL")")
        }
        let failure = failures.isEmpty ? nil : AttnError.checkFailed(failures.joined(separator: "; "))
        let json = JSONValue.object(w.jsonFields.map { $0.0 == "passed" ? ($0.0, .bool(failure == nil)) : $0 } + extra)
        var report = RunReport(command: "verify", text: text, json: json, failure: failure)
        report.pointers = pointers
        return report
    }
}

extension VerifyRequest.CandidateResult {
    /// The candidate's object in `--json`'s `candidates` (keys scripts depend on).
    public var jsonFields: [(String, JSONValue)] {
        let a = accuracy, ratio = floorRatio, v = verification
        return [
            ("label", .string(entry.label)), ("source", .string(entry.source.description)),
            ("type", .string(type.shortName)), ("passed", .bool(v.passed)),
            ("max_error_bound", .double(v.maxErrorBound)),
            ("batch", .int(v.batch)), ("head", .int(v.head)), ("row", .int(v.row)), ("col", .int(v.col)),
            ("max_error_lower_bound", .double(a.maxErrorLower)),
            ("rounding_floor", .array([.double(a.floorLower), .double(a.floorUpper)])),
            ("floor_ratio", .array([.double(ratio.lo), .double(ratio.hi)])),
            ("correctly_rounded", .double(a.fraction(a.correctlyRounded))),
            ("faithful", .double(a.fraction(a.faithful))), ("undecided", .double(a.fraction(a.undecided))),
            ("failing_entries", .int(v.failing)), ("undecided_entries", .int(v.undecided)),
        ]
    }
}

extension TieredVerificationReport {
    /// The merged report of the JSON reports of head shards, read from `paths`.
    /// - Throws: `AttnError.usage` naming the file that is unreadable or not a report, or why
    ///   the shards do not merge (`merge`).
    public static func merge(files paths: [String]) throws -> RunReport {
        let parts = try paths.map { path in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw AttnError.usage("\(path): cannot read file")
            }
            do { return try TieredVerificationReport(json: text) } catch let e as AttnError {
                throw AttnError.usage("\(path): \(e.message)")
            }
        }
        let merged = try merge(parts)
        return merged.runReport(command: "verify-merge", json: .object(merged.jsonFields))
    }

    /// The text report or `json`, failing unless every entry certifiably passed.
    func runReport(command: String, json: JSONValue) -> RunReport {
        let lseNote = lse.map { ", LSE: \($0.failing) of \($0.entries) rows fail, \($0.undecided) undecided" } ?? ""
        let failure =
            passed
            ? nil
            : AttnError.checkFailed(
                "\(failing) of \(entries) entries certifiably exceed the tolerance, \(undecided) are undecided"
                    + lseNote)
        return RunReport(command: command, text: [text], json: json, failure: failure)
    }
}
