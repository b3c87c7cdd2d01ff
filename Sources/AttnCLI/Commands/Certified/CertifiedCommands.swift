import ArgumentParser
import AttnKit

extension VerifyEngine: ExpressibleByArgument {}
extension LSEBase: ExpressibleByArgument {}
extension StorageType: ExpressibleByArgument { public init?(argument: String) { self.init(name: argument) } }

struct VerifyCommand: ParsableCommand {
    static let configuration = command(
        "verify", "Certify candidate attention outputs entry by entry against the truth.",
        discussion: "Exit 0 if every entry certifiably passes, 1 if some fail or are undecided, 2 on bad input.")
    @OptionGroup var inputs: AttentionInputs
    @Option(help: "Output to certify: PATH, PATH:NAME or LABEL=PATH[:NAME]; repeatable.") var candidate: [String] = []
    @Option(name: .customLong("do"), help: "Upstream gradient dO .npy (the output's shape).") var upstream: String?
    @Option(help: "Candidate dQ .npy (Q's shape) to certify; needs --do.") var dqCandidate: String?
    @Option(help: "Candidate dK .npy (K's shape) to certify; needs --do.") var dkCandidate: String?
    @Option(help: "Candidate dV .npy (V's shape) to certify; needs --do.") var dvCandidate: String?
    @Option(help: "Pass iff |candidate − truth| ≤ this, entrywise (default 1e-6).") var tolerance: Double?
    @Option(help: "Absolute part of the tolerance |candidate − truth| ≤ atol + rtol·|truth|.") var atol: Double?
    @Option(help: "Relative part of the torch-style tolerance.") var rtol: Double?
    @Option(help: "Pass iff each certified error ≤ R × its rounding floor max|RN_T(y) − y|.") var maxFloorRatio: Double?
    @Flag(help: "Per candidate: rounding floor, error/floor, correctly rounded, faithful.") var report = false
    @Option(help: "Judge candidates as this type, e.g. bf16 values saved as float32.") var candidateType: StorageType?
    @Option(help: "fp8 dequantization of Q: a number or a .npy [batch, heads_kv].") var qDescale: String?
    @Option(help: "fp8 dequantization of K (as --q-descale).") var kDescale: String?
    @Option(help: "fp8 dequantization of V (as --q-descale).") var vDescale: String?
    @Option(help: "auto (float engine, undecided rows to GMP/MPFR), float or exact.") var engine = VerifyEngine.auto
    @Option(help: "Certify only query heads a:b (half-open, within each batch entry).") var heads: HalfOpenRange?
    @Option(help: "Precision of the GMP/MPFR enclosures, in bits.") var precision = 256
    @Option(help: "LSE .npy to certify: [batch, heads, n_q], [heads, n_q] or [n_q] (+ a 1).") var lseCandidate: String?
    @Option(help: "Base of the LSE candidate: e (FlashAttention, cuDNN) or 2 (FlashInfer).") var lseBase = LSEBase.e
    @Option(help: "Pass iff |LSE candidate − LSE| ≤ this, entrywise (default 1e-5).") var lseAtol: Double?
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: OutputOption
    @OptionGroup var json: JSONOption
    func run() throws {
        var r = VerifyRequest(files: try inputs.files.set(), candidates: candidate)
        (r.scale, r.scoreModel, r.tolerance, r.atol) = try (inputs.scale, inputs.scoreModel, tolerance, atol)
        (r.rtol, r.engine, r.heads, r.precision, r.threads) = (rtol, engine, heads?.range, precision, threads.count)
        (r.maxFloorRatio, r.candidateType) = (maxFloorRatio, candidateType)
        (r.lseCandidate, r.lseBase, r.lseAtol) = (lseCandidate, lseBase, lseAtol)
        r.descale = try Descale.parsing(q: qDescale, k: kDescale, v: vDescale)
        let g = GradientVerifyRequest(output: r, upstream: upstream, dq: dqCandidate, dk: dkCandidate, dv: dvCandidate)
        let o = { try KernelAccuracyReport.run(r, report: report, out: out.path, note: printNote) }
        try emit(g.hasGradients ? g.run(note: printNote) : o(), out: out.path, json: json.json)
    }
}

struct VerifyMergeCommand: ParsableCommand {
    static let configuration = command("verify-merge", "Merge the --json reports of `verify --heads` shards into one.")
    @Argument(help: "JSON report files, one per shard.") var reports: [String]
    @OptionGroup var json: JSONOption
    func run() throws { try emit(try TieredVerificationReport.merge(files: reports), out: nil, json: json.json) }
}

struct VectorsCommand: ParsableCommand {
    static let configuration = command("vectors", "Write conformance vectors: per case q, k, v, lo, hi and case.json.")
    @Flag(help: "Write page-selection cases (Quest and ArkVale rules) instead of certified ones.") var paged = false
    @Option(name: [.customLong("out"), .short], help: "Output folder (created; its parent must exist).") var out: String
    @Option(help: "Precision of the certified enclosures, in bits.") var precision = 256
    @Option(help: "Seed of the random parts of the cases.") var seed: UInt64 = 0
    @OptionGroup var model: ScoreModelOptions
    @Option(help: "Custom case's [batch,]heads,n_q,n_k,d (with score-model flags).") var caseShape: CommaList<Int>?
    @OptionGroup var json: JSONOption
    func run() throws {
        let custom = try ConformanceCases.custom(model.loadScoreModel(), shape: caseShape?.items, seed: seed)
        let v = {
            try ConformanceVectors.run(to: out, precision: precision, seed: seed, custom: custom, spelling: flagName)
        }
        try emit(paged ? PagedConformance.run(to: out, spelling: flagName) : v(), out: nil, json: json.json)
    }
}

struct BenchCertifiedCommand: ParsableCommand {
    static let configuration = command("certified", "Time certified attention against the Float64 reference kernel.")
    @OptionGroup var options: BenchOptions
    @Option(help: "Sequence length n (n_q = n_k = n).") var n = 256
    @Option(help: "Head dimension d (= d_v).") var d = 16
    @Option(help: "Precision of the certified enclosures, in bits.") var precision = 256
    @Option(help: "Softmax scale: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.") var scale = Scale.standard
    @OptionGroup var threads: ThreadsOption
    @Option(help: "Seed of the uniform [−1, 1] Float32 inputs.") var seed: UInt64 = 42
    func run() throws {
        var s = CertifiedBenchmark.Setup()
        (s.n, s.d, s.precision, s.scale, s.seed) = (n, d, precision, scale, seed)
        (s.threads, s.runs) = (threads.count, options.runs)
        try options.emit { try CertifiedBenchmark.run(s).runReport }
    }
}
