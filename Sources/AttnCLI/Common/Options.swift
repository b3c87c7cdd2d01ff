import ArgumentParser
import AttnKit
import Foundation

extension Scale: ExpressibleByArgument {}
extension AttentionKernel: ExpressibleByArgument {}
extension EdgeFamily: ExpressibleByArgument {}
extension MaskAlignment: ExpressibleByArgument {}

public enum Precision: String, CaseIterable, ExpressibleByArgument, Sendable { case float32, float64 }

/// The Q, K, V of an attention problem (`PATH` or `PATH:NAME`, or a tensor file), read by the one reader.
struct AttentionFiles: ParsableArguments {
    @Option(help: "Queries [n_q, d], [heads, n_q, d] or [batch, heads, n_q, d]: .npy, or FILE:NAME.") var q: String?
    @Option(help: "Keys [n_k, d], [heads_kv, n_k, d] or [batch, heads_kv, n_k, d]; heads_kv | heads.") var k: String?
    @Option(help: "Values [n_k, d_v], [heads_kv, n_k, d_v] or [batch, heads_kv, n_k, d_v].") var v: String?
    @Option(help: "A .safetensors/.npz with q, k, v, o (lse, do, dq, dk, dv, mask, bias).") var tensors: String?
    @Option(help: "The tensor file's names of the roles, e.g. q=query,k=key,o=out.") var names: String?
    func set() throws -> TensorFiles {
        TensorFiles(
            file: tensors, names: try names.map(TensorFiles.parseNames) ?? [:], explicit: ["q": q, "k": k, "v": v])
    }
    func problem<T: AttnScalar>(as: T.Type) throws -> AttentionTensors<T> { try AttentionTensors(files: set()) }
}

/// Q, K, V with the scale and score model of exact attention; the default scale is `standard` (1/√d), as torch.
struct AttentionInputs: ParsableArguments {
    @OptionGroup var files: AttentionFiles
    @Option(help: "Softmax scale s: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.") var scale = Scale.standard
    @OptionGroup var model: ScoreModelOptions
    var scoreModel: ScoreModel { get throws { try model.loadScoreModel() } }
}

/// The score model (README, "The score model"), read and checked by the library (`loadScoreModel`).
struct ScoreModelOptions: ParsableArguments, ScoreModelSource {
    @Flag(help: "Causal mask: row i sees key j iff j ≤ i′, the aligned diagonal (--align).") var causal = false
    @Option(help: "i′ = i + n_k − n_q (bottom-right) or i (top-left, torch).") var align = MaskAlignment.bottomRight
    @Option(parsing: .unconditional, help: "Key j visible iff i′−L ≤ j ≤ i′+R; L, R ≥ 0 or inf.") var window: String?
    @Option(help: "Mask .npy, bool/uint8/int, nonzero = visible; broadcasts as torch.") var mask: String?
    @Option(help: "Additive bias .npy (float, broadcasts as torch), after the softcap.") var bias: String?
    @Option(help: "ALiBi slopes, .npy [heads] or a comma list: scores lose slope·|i′ − j|.") var alibi: String?
    @Option(parsing: .unconditional, help: "Softcap c > 0: scaled scores x become c·tanh(x/c).") var softcap: Double?
    @Option(help: "Sink logits .npy [heads], natural log: exp(σ) joins each denominator.") var sinks: String?
    var causalWindow: AttentionWindow? { causal ? .causal : nil }
}

/// `--threads`, validated once for every command that runs workers.
struct ThreadsOption: ParsableArguments {
    @Option(help: "Worker threads (default: every active core).") var threads: Int?
    var count: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }
    func validate() throws {
        if let t = threads, !(1...1024).contains(t) { throw ValidationError("--threads must be in 1...1024") }
    }
}

/// `--seed`, for commands whose random inputs default to seed 1; `--json`, for commands that print a summary.
struct SeedOption: ParsableArguments { @Option(help: "Seed of every random input (recorded).") var seed: UInt64 = 1 }
struct JSONOption: ParsableArguments { @Flag(help: "Print one JSON object instead of text.") var json = false }

/// The output path, `--out` / `-o` (CONVENTIONS.md, "Options"), with the former spellings `--output`
/// and `--csv` accepted, hidden, for one version. Its folder is checked before any work is done.
struct OutputOption: ParsableArguments {
    @Option(name: [.customLong("out"), .short], help: "Output file (written to temp, then renamed).") var out: String?
    @Option(name: [.customLong("output"), .customLong("csv")], help: .hidden) var legacy: String?
    var path: String? { out ?? legacy }
    /// The path, for a command that always writes.
    func required() throws -> String { if let path { path } else { throw ValidationError("missing --out") } }
    func validate() throws {
        if out != nil && legacy != nil { throw ValidationError("give --out or its former spelling, not both") }
        if let path { try validateOutputPath(path, flag: "--out") }
    }
}

/// A comma-separated list flag ("256,1024", "uniform,signs"): the one way lists are parsed. Each item is
/// read by the element's own `ExpressibleByArgument`, so a bad item is a usage error (exit 2) naming the flag.
struct CommaList<Element: ExpressibleByArgument>: ExpressibleByArgument, CustomStringConvertible {
    let items: [Element]
    /// The text as given (recorded in sidecars).
    let description: String
    var defaultValueDescription: String { description }
    init?(argument: String) {
        let parsed = argument.split(separator: ",", omittingEmptySubsequences: false)
            .map { Element(argument: $0.trimmingCharacters(in: .whitespaces)) }
        guard parsed.allSatisfy({ $0 != nil }) else { return nil }
        (items, description) = (parsed.compactMap { $0 }, argument)
    }
}

/// `Size` ("4096", "2^12") and `HalfOpenRange` ("a:b") are parsed by the library.
extension Size: ExpressibleByArgument { public init?(argument: String) { self.init(parsing: argument) } }
extension HalfOpenRange: ExpressibleByArgument { public init?(argument: String) { self.init(parsing: argument) } }

/// A subcommand's configuration: name, abstract and the optional rest, in one line at the command.
func command(
    _ name: String, _ abstract: String, discussion: String = "", subcommands: [ParsableCommand.Type] = [],
    defaultSubcommand: ParsableCommand.Type? = nil
) -> CommandConfiguration {
    CommandConfiguration(
        commandName: name, abstract: abstract, discussion: discussion, subcommands: subcommands,
        defaultSubcommand: defaultSubcommand)
}
