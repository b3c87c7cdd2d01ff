import ArgumentParser
import AttnCertified
import AttnCore
import AttnPaged
import Foundation

/// `attnbound vectors --out DIR`: certified conformance vectors for other
/// implementations to test against (see `ConformanceCases` for the set).
struct VectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors",
        abstract: "Write certified conformance vectors (inputs, certified lo/hi, JSON description).",
        discussion: """
            One folder per case (q.npy, k.npy, v.npy, lo.npy, hi.npy, case.json) and DIR/index.json. \
            Cases: scale conventions (paper, standard, irrational standard, exact decimal), near ties, \
            a dominant key, scores of ±1e6, subnormal inputs, cancellation in V, n_k = 1, d = 1, equal scores, \
            causal, multi-head float64. With --paged: page-selection cases instead (Quest and ArkVale rules, \
            expected selected pages; format in DIR/README.md).
            """)

    @Flag(
        help: "Write page-selection conformance cases (Quest and ArkVale rules) instead of certified attention cases.")
    var paged = false

    @Option(name: [.customLong("out"), .short], help: "Output folder (created if missing; its parent must exist).")
    var out: String

    @Option(help: "Precision of the certified enclosures, in bits.")
    var precision: Int = 256

    @Option(help: "Seed of the random parts of the cases.")
    var seed: UInt64 = 0

    @Flag(help: "Print one JSON object on one line instead of text.")
    var json = false

    func validate() throws {
        guard CertifiedAttention.precisionRange.contains(precision) else {
            throw ValidationError("--precision must be in \(CertifiedAttention.precisionRange)")
        }
        try validateOutputPath(out, flag: "--out")
    }

    func run() throws {
        if paged {
            let names = try PagedConformance.write(to: URL(fileURLWithPath: out)) {
                [("kv_replay_args", .array(Self.kvReplayArguments($0).map { .string($0) }))]
            }
            print(
                json
                    ? JSONValue.object([("out", .string(out)), ("cases", .array(names.map { .string($0) }))])
                        .serialized()
                    : "wrote \(names.count) page-selection cases to \(out):\n"
                        + names.map { "  " + $0 }.joined(separator: "\n"))
            return
        }
        let names = try ConformanceVectors.write(to: URL(fileURLWithPath: out), precision: precision, seed: seed)
        if json {
            print(
                JSONValue.object([
                    ("out", .string(out)), ("cases", .array(names.map { .string($0) })),
                    ("precision_bits", .int(precision)),
                    ("seed", .int(Int(truncatingIfNeeded: seed))),
                ]).serialized())
        } else {
            print("wrote \(names.count) certified cases (\(precision) bits, seed \(seed)) to \(out):")
            for n in names { print("  \(n)") }
        }
    }

    /// The `kv-replay` flags that replay a page-selection case (besides --k/--v/--q/--selection-out).
    static func kvReplayArguments(_ c: PagedConformance.Case) -> [String] {
        var a = ["--policy", c.policy.rawValue, "--budget", String(c.config.budgetTokens), "--page-size", String(c.pageSize),
                 "--sink-pages", String(c.config.sinkPages), "--window-pages", String(c.config.windowPages)]
        if let k = c.config.topkPages { a += ["--topk", String(k)] }
        if let r = c.config.reduction { a += ["--reduction", r.rawValue] }
        return a
    }
}
