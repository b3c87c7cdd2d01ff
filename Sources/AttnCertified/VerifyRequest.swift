import AttnCore
import Foundation

/// `verify` as one request: certify a candidate attention output computed anywhere, entry by
/// entry, against the exact truth of the problem in `q`, `k`, `v` (`TieredVerification`).
public struct VerifyRequest: Sendable {
    /// `.npy` paths: the problem (read exactly, 2-D to 4-D, GQA) and the candidate output.
    public var q: String, k: String, v: String, candidate: String
    public var scale: Scale = .standard
    /// What attention computes (`ScoreModel`).
    public var scoreModel = ScoreModel.plain
    /// The plain absolute tolerance, or the torch-style `atol` + `rtol`·|truth| (not both);
    /// none given: 1e-6 absolute.
    public var tolerance: Double?, atol: Double?, rtol: Double?
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

    public init(q: String, k: String, v: String, candidate: String) {
        (self.q, self.k, self.v, self.candidate) = (q, k, v, candidate)
    }

    /// - Throws: `AttnError.usage` naming the parameter out of range.
    public func validate() throws {
        try Parameter.precision.require(precision, in: CertifiedAttention.precisionRange)
        for (p, x) in [(Parameter.tolerance, tolerance), (.atol, atol), (.rtol, rtol)] {
            if let x { try p.require(x.isFinite && x >= 0, "must be finite and ≥ 0") }
        }
        try Parameter.tolerance.require(
            tolerance == nil || (atol == nil && rtol == nil), "give it or atol/rtol, not both")
        if let a = lseAtol {
            try Parameter.lseAtol.require(a.isFinite && a >= 0, "must be finite and ≥ 0")
            try Parameter.lseAtol.require(lseCandidate != nil, "needs an LSE candidate")
        }
        try Parameter.lseCandidate.require(lseCandidate != nil || lseBase == .e, "a base needs an LSE candidate")
    }

    /// The LSE candidate read and checked against the problem's shape, or nil.
    /// - Throws: `AttnError.usage(.lseCandidate, …)` naming the file.
    func readLSE(shape: AttentionShape) throws -> LSECandidate? {
        guard let path = lseCandidate else { return nil }
        do {
            let t: Tensor<Double> = try Npy.read(path)
            return try LSECandidate(t, shape: shape, base: lseBase, atol: lseAtol ?? 1e-5)
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

    /// Reads the files and certifies; `note` receives progress lines (`RowProgress`).
    /// - Returns: the report; its failure is set unless every entry certifiably meets the tolerance.
    /// - Throws: `AttnError.usage` for invalid parameters or inputs (a candidate of the wrong
    ///   shape names its path).
    public func run(note: @escaping @Sendable (String) -> Void = { _ in }) throws -> RunReport {
        try validate()
        let problem = try AttentionTensors<Double>(q: q, k: k, v: v)  // every dtype widens exactly
        var opts = options
        opts.lse = try readLSE(shape: problem.shape)
        let report: TieredVerificationReport
        do {
            let c: Tensor<Double> = try Npy.read(candidate)
            report = try TieredVerification.run(
                q: problem.q, k: problem.k, v: problem.v, candidate: c, scale: scale, scoreModel: scoreModel,
                options: opts, progress: RowProgress.throttled("verify", note: note))
        } catch let e as AttnError where e.parameter == .candidate {
            throw AttnError.usage(.candidate, "\(candidate): \(e.message)")
        }
        let extra: [(String, JSONValue)] =
            [
                ("engine", .string(engine.rawValue)), ("precision_bits", .int(precision)),
                ("scale", .string(scale.description)), ("causal", .bool(scoreModel.mask.isCausal)),
                ("candidate", .string(candidate)),
            ] + (lseCandidate.map { [("lse_candidate", JSONValue.string($0))] } ?? [])
        return report.runReport(command: "verify", json: .object(report.jsonFields + extra))
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
