import ArgumentParser
import AttnCore
import AttnKernels
import Foundation

extension Scale: ExpressibleByArgument {}
extension AttentionKernel: ExpressibleByArgument {}

/// Working precision of a floating-point command.
public enum Precision: String, CaseIterable, ExpressibleByArgument, Sendable {
    case float32, float64
}

/// The Q, K, V files of an attention problem.
struct AttentionFiles: ParsableArguments {
    @Option(help: "Queries: .npy [n_q, d], [heads, n_q, d] or [batch, heads, n_q, d]; float16/32/64.") var q: String
    @Option(help: "Keys: .npy [n_k, d], [heads_kv, n_k, d] or [batch, heads_kv, n_k, d]; heads_kv divides heads.")
    var k: String
    @Option(help: "Values: .npy [n_k, d_v], [heads_kv, n_k, d_v] or [batch, heads_kv, n_k, d_v].") var v: String

    /// Reads and checks Q, K, V through the one reader (AttnCore's `AttentionTensors`).
    func problem<T: AttnScalar>(as: T.Type) throws -> AttentionTensors<T> { try AttentionTensors(q: q, k: k, v: v) }

    /// Q and K, V expanded to one KV head per query head (GQA), for kernels that take equal head counts.
    func load<T: AttnScalar>(as type: T.Type) throws -> (Tensor<T>, Tensor<T>, Tensor<T>) {
        let p = try problem(as: type)
        let (k, v) = p.expandedKV
        return (p.q, k, v)
    }
}

/// Q, K, V with the scale and mask of exact attention; the default scale is `standard` (1/√d), as in PyTorch.
struct AttentionInputs: ParsableArguments {
    @OptionGroup var files: AttentionFiles
    @Option(help: "Softmax scale s: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.") var scale = Scale.standard
    @Flag(help: "Causal mask, aligned bottom-right: row i sees key j iff j ≤ i + n_k − n_q.") var causal = false

    func load<T: AttnScalar>(as type: T.Type) throws -> (Tensor<T>, Tensor<T>, Tensor<T>) {
        try files.load(as: type)
    }
}

/// A comma-separated list flag ("256,1024", "uniform,signs"): the one way lists are parsed. Each item is
/// read by the element's own `ExpressibleByArgument`, so a bad item is a usage error (exit 2) naming the flag.
struct CommaList<Element: ExpressibleByArgument>: ExpressibleByArgument, CustomStringConvertible {
    let items: [Element]
    /// The text as given (recorded in sidecars).
    let description: String

    init?(argument: String) {
        var items: [Element] = []
        for p in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let x = Element(argument: p.trimmingCharacters(in: .whitespaces)) else { return nil }
            items.append(x)
        }
        (self.items, self.description) = (items, argument)
    }

    var defaultValueDescription: String { description }
}

/// A size: "4096" or "2^12" (exponent ≤ 40).
struct Size: ExpressibleByArgument {
    let value: Int
    init?(argument: String) {
        let p = argument.split(separator: "^")
        if let i = Int(argument) {
            value = i
        } else if p.count == 2, p[0] == "2", let k = Int(p[1]), (0...40).contains(k) {
            value = 1 << k
        } else {
            return nil
        }
    }
}

/// Checks that an output path's folder exists before any work is done.
func validateOutputPath(_ path: String, flag: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    var isDir: ObjCBool = false
    if !dir.isEmpty, !(FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue) {
        throw ValidationError("\(flag) \(path): folder \(dir) does not exist")
    }
}
