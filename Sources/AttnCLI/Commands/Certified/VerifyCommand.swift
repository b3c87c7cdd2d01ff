import ArgumentParser
import AttnCertified
import AttnCore
import Foundation

extension VerifyEngine: ExpressibleByArgument {}

/// `attnbound verify`: certifies an attention output computed anywhere
/// (PyTorch, JAX, a CUDA kernel, our fast kernel). Exit 0 if every entry
/// certifiably meets the tolerance, 1 if not (or undecided), 2 on bad input.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Certify a candidate attention output entry by entry against the exact truth.",
        discussion: """
            Inputs are read exactly (float16/32/64, 2-D to 4-D, GQA). The float engine encloses every entry with a \
            proved bound (Proofs/float-certified-engine.md); rows it cannot decide go to GMP/MPFR \
            (Proofs/certified-enclosure.md). Every printed bound is certified.
            """)

    @OptionGroup var inputs: AttentionInputs

    @Option(help: "Candidate output .npy: Q's leading axes × [n_q, d_v], float16/32/64.")
    var candidate: String

    @Option(help: "Pass iff |candidate − truth| ≤ this, entrywise (plain absolute form; default 1e-6 unless --atol/--rtol).")
    var tolerance: Double?

    @Option(help: "Absolute part of the torch-style tolerance |candidate − truth| ≤ atol + rtol·|truth|.")
    var atol: Double?

    @Option(help: "Relative part of the torch-style tolerance.")
    var rtol: Double?

    @Option(help: "auto (float engine, undecided rows to GMP/MPFR), float, or exact (GMP/MPFR only).")
    var engine: VerifyEngine = .auto

    @Option(help: "Certify only query heads a:b (half-open, within each batch entry), e.g. one Slurm array task.")
    var heads: String?

    @Option(help: "Precision of the GMP/MPFR enclosures, in bits.")
    var precision: Int = 256

    @OptionGroup var threadsOption: ThreadsOption
    var threads: Int { threadsOption.count }

    @Flag(help: "Print one JSON object on one line instead of text.")
    var json = false

    func validate() throws {
        guard CertifiedAttention.precisionRange.contains(precision) else {
            throw ValidationError("--precision must be in \(CertifiedAttention.precisionRange)")
        }
        for (flag, x) in [("--tolerance", tolerance), ("--atol", atol), ("--rtol", rtol)] {
            if let x { guard x.isFinite, x >= 0 else { throw ValidationError("\(flag) must be finite and ≥ 0") } }
        }
        guard tolerance == nil || (atol == nil && rtol == nil) else {
            throw ValidationError("give --tolerance or --atol/--rtol, not both")
        }
        if let heads { _ = try Self.range(heads) }
    }

    static func range(_ text: String) throws -> Range<Int> {
        let p = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard p.count == 2, let a = p[0], let b = p[1], a >= 0, a < b else {
            throw ValidationError("--heads '\(text)' is not a:b with 0 ≤ a < b")
        }
        return a..<b
    }

    func run() throws {
        let problem = try inputs.files.problem(as: Double.self)   // every dtype widens exactly
        let cand: Tensor<Double> = try Npy.read(candidate)
        var options = VerifyOptions(atol: atol ?? tolerance ?? (rtol == nil ? 1e-6 : 0), rtol: rtol ?? 0)
        options.engine = engine; options.precision = precision; options.threads = threads
        options.heads = try heads.map(Self.range)
        let report: TieredVerificationReport
        do {
            report = try TieredVerification.run(q: problem.q, k: problem.k, v: problem.v, candidate: cand,
                                                scale: inputs.scale, causal: inputs.causal, options: options,
                                                progress: ProgressNote.rows("verify"))
        } catch let e as AttnError where e.message.hasPrefix("candidate") {
            throw AttnError.usage("--candidate \(candidate): \(e.message)")
        } catch let e as AttnError where e.message.hasPrefix("head range") {
            throw AttnError.usage("--heads: \(e.message)")
        }
        if json {
            print(JSONValue.object(report.jsonFields + [
                ("engine", .string(engine.rawValue)), ("precision_bits", .int(precision)),
                ("scale", .string(inputs.scale.description)), ("causal", .bool(inputs.causal)),
                ("candidate", .string(candidate)),
            ]).serialized())
        } else {
            print(report.text)
        }
        if !report.passed { throw ExitCode(1) }
    }
}

/// `attnbound verify-merge`: one report from the JSON reports of head shards.
struct VerifyMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-merge", abstract: "Merge the --json reports of `verify --heads` shards into one.")

    @Argument(help: "JSON report files, one per shard.")
    var reports: [String]

    @Flag(help: "Print one JSON object on one line instead of text.")
    var json = false

    func run() throws {
        let parts = try reports.map { path in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw AttnError.usage("\(path): cannot read file")
            }
            do { return try TieredVerificationReport(json: text) } catch let e as AttnError {
                throw AttnError.usage("\(path): \(e.message)")
            }
        }
        let merged = try TieredVerificationReport.merge(parts)
        print(json ? JSONValue.object(merged.jsonFields).serialized() : merged.text)
        if !merged.passed { throw ExitCode(1) }
    }
}
