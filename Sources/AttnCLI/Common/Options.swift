import ArgumentParser
import AttnKit
import Foundation

extension Scale: ExpressibleByArgument {}
extension AttentionKernel: ExpressibleByArgument {}
extension MaskAlignment: ExpressibleByArgument {}

public enum Precision: String, CaseIterable, ExpressibleByArgument, Sendable { case float32, float64 }

/// The Q, K, V files of an attention problem, read and checked by the one reader (`AttentionTensors`).
struct AttentionFiles: ParsableArguments {
    @Option(help: "Queries: .npy [n_q, d], [heads, n_q, d] or [batch, heads, n_q, d]; float16/32/64.") var q: String
    @Option(help: "Keys: .npy [n_k, d], [heads_kv, n_k, d] or [batch, heads_kv, n_k, d]; heads_kv | heads.") var k:
        String
    @Option(help: "Values: .npy [n_k, d_v], [heads_kv, n_k, d_v] or [batch, heads_kv, n_k, d_v].") var v: String
    func problem<T: AttnScalar>(as: T.Type) throws -> AttentionTensors<T> { try AttentionTensors(q: q, k: k, v: v) }
}

/// Q, K, V with the scale and mask of exact attention; the default scale is `standard` (1/√d), as in PyTorch.
struct AttentionInputs: ParsableArguments {
    @OptionGroup var files: AttentionFiles
    @Option(help: "Softmax scale s: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.") var scale = Scale.standard
    @OptionGroup var scores: ScoreModelOptions
}

/// What attention computes: the library reads and checks every value and file (`ScoreModelSource`).
struct ScoreModelOptions: ParsableArguments, ScoreModelSource {
    @Flag(help: "Causal mask: row i sees key j iff j ≤ i′ (the diagonal of --align).") var causal = false
    @Option(help: "Diagonal i′: bottom-right (i + n_k − n_q) or top-left (i).") var align = MaskAlignment.bottomRight
    @Option(help: "Window L,R (integers ≥ 0 or inf): row i sees keys i′ − L ≤ j ≤ i′ + R.") var window: String?
    @Option(help: "Mask .npy, bool/uint8/int (nonzero = visible), broadcast to [b, h, n_q, n_k].") var mask: String?
    @Option(help: "Bias .npy (float), added after the softcap, broadcast to [b, h, n_q, n_k].") var bias: String?
    @Option(help: "ALiBi slopes: .npy [heads] or a comma list; score −= slope·|i′ − j|.") var alibi: String?
    @Option(help: "Softcap C > 0: score ← C·tanh(score/C) (Gemma 2).") var softcap: Double?
    @Option(help: "Sink logits .npy [heads] (natural log): exp(σ_h) joins every denominator.") var sinks: String?
}

/// `--threads`, validated once for every command that runs workers.
struct ThreadsOption: ParsableArguments {
    @Option(help: "Worker threads (default: every active core).") var threads: Int?
    var count: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }
    func validate() throws {
        if let t = threads, t < 1 || t > 1024 { throw ValidationError("--threads must be in 1...1024") }
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
        var items: [Element] = []
        for p in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let x = Element(argument: p.trimmingCharacters(in: .whitespaces)) else { return nil }
            items.append(x)
        }
        (self.items, self.description) = (items, argument)
    }
}

/// A size: "4096" or "2^12" (exponent ≤ 40; `ArgumentText.size`).
struct Size: ExpressibleByArgument {
    let value: Int
    init?(argument: String) { if let v = ArgumentText.size(argument) { value = v } else { return nil } }
}

/// "START:END" with 0 ≤ START < END: a half-open range of tokens or heads (`--vision`, `--heads`).
struct HalfOpenRange: ExpressibleByArgument {
    let range: Range<Int>
    init?(argument: String) { if let r = ArgumentText.halfOpenRange(argument) { range = r } else { return nil } }
}

/// A subcommand's configuration: name, abstract and the optional rest, in one line at the command.
func command(
    _ name: String, _ abstract: String, discussion: String = "", subcommands: [ParsableCommand.Type] = [],
    defaultSubcommand: ParsableCommand.Type? = nil
) -> CommandConfiguration {
    CommandConfiguration(
        commandName: name, abstract: abstract, discussion: discussion, subcommands: subcommands,
        defaultSubcommand: defaultSubcommand)
}
