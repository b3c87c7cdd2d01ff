import AttnCore
import Foundation

/// `verify --do`: certify a kernel's gradients (any subset of dQ, dK, dV) given the upstream
/// gradient dO, beside or instead of its output (`GradientVerification`).
///
/// The problem, scale, mask, tolerance, engine, precision and threads are the output request's
/// (`output`), so both are judged alike; the output itself is certified when it names candidates.
public struct GradientVerifyRequest: Sendable {
    /// The problem and the options; its candidate (when not empty) is certified too.
    public var output: VerifyRequest
    /// Certify the output's candidates too (when it names some; else the gradients only).
    public var certifyOutput: Bool { !output.candidates.isEmpty }
    /// dO or a candidate gradient is given (else this is a plain output verification).
    public var hasGradients: Bool { upstream != nil || !candidates.isEmpty }
    /// `.npy` path of the upstream gradient dO (the output's shape); nil: the output only.
    public var upstream: String?
    /// `.npy` paths of the candidate gradients (any subset of dq, dk, dv; with dO).
    public var candidates: [GradientName: String]

    public init(output: VerifyRequest, upstream: String?, dq: String? = nil, dk: String? = nil, dv: String? = nil) {
        (self.output, self.upstream) = (output, upstream)
        candidates = ([.dq: dq, .dk: dk, .dv: dv] as [GradientName: String?]).compactMapValues { $0 }
    }

    static let parameters: [GradientName: Parameter] = [.dq: .dqCandidate, .dk: .dkCandidate, .dv: .dvCandidate]

    /// - Throws: `AttnError.usage` naming the parameter at fault: nothing to certify (`.candidate`), dO
    ///   without candidate gradients or candidates without dO (`.dO`), or the output request's own checks.
    public func validate() throws {
        try output.validate()
        try Parameter.dO.require((upstream == nil) == candidates.isEmpty, "goes with at least one candidate gradient")
        try Parameter.candidate.require(
            certifyOutput || upstream != nil, "give a candidate output, or dO and gradients")
    }

    /// Reads the files and certifies the output (if named) and the candidate gradients.
    /// - Returns: the output's report (when certified) with `gradients` added to its JSON and one
    ///   block of text per gradient; its failure is set unless every entry of everything certified passed.
    /// - Throws: `AttnError.usage` naming the file at fault (`.dO`, `.dqCandidate`, …: unreadable,
    ///   bad .npy, NaN/Inf in dO, wrong shape).
    public func run(note: @escaping @Sendable (String) -> Void = { _ in }) throws -> RunReport {
        try validate()
        guard let upstream else { return try output.run(note: note) }
        let problem = try AttentionTensors<Double>(files: output.files, descale: output.descale)
        func read(_ path: String, _ p: Parameter) throws -> Tensor<Double> {
            do { return try TensorFile.read(TensorSource(parsing: path)).tensor } catch let e as AttnError {
                throw AttnError.usage(p, "\(path): \(e.message)")
            }
        }
        let dO = try read(upstream, .dO)
        var tensors: [GradientName: Tensor<Double>] = [:]
        for (name, path) in candidates { tensors[name] = try read(path, Self.parameters[name]!) }
        let reports: [GradientName: TieredVerificationReport]
        do {
            reports = try GradientVerification.run(
                q: problem.q, k: problem.k, v: problem.v, dO: dO, candidates: tensors, scale: output.scale,
                scoreModel: output.scoreModel, options: output.options,
                progress: RowProgress.throttled("verify gradients", note: note))
        } catch let e as AttnError where e.parameter == .dO || Self.parameters.values.contains(e.parameter ?? .q) {
            let path =
                e.parameter == .dO ? upstream : candidates.first { Self.parameters[$0.key] == e.parameter }!.value
            throw AttnError.usage(e.parameter!, "\(path): \(e.message)")
        }
        var base =
            certifyOutput
            ? try output.run(note: note)
            : RunReport(command: "verify", text: [], json: .object([("upstream", .string(upstream))]))
        let names = reports.keys.sorted()
        for name in names {
            base.text.append("\(name.rawValue) (\(candidates[name]!)):")
            base.text.append(reports[name]!.text)
        }
        if case .object(var fields) = base.json {
            fields.append(("gradients", .object(names.map { ($0.rawValue, reports[$0]!.gradientJSON) })))
            base.json = .object(fields)
        }
        let bad = names.filter { !reports[$0]!.passed }
        if base.failure == nil, !bad.isEmpty {
            let what = bad.map {
                "\($0.rawValue): \(reports[$0]!.failing) failing, \(reports[$0]!.undecided) undecided"
            }
            base.failure = AttnError.checkFailed("gradients not certified (\(what.joined(separator: "; ")))")
        }
        return base
    }
}
