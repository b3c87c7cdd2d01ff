import ArgumentParser
import AttnCore
import AttnKernels

extension Scale: ExpressibleByArgument {
    public init?(argument: String) {
        guard let s = try? Scale(parsing: argument) else { return nil }
        self = s
    }
    public static var defaultCompletionKind: CompletionKind { .list(["paper", "standard"]) }
}

extension AttentionKernel: ExpressibleByArgument {}

/// Working precision of a floating-point command.
public enum Precision: String, CaseIterable, ExpressibleByArgument, Sendable {
    case float32, float64
}

/// The Q, K, V files of an attention problem.
struct AttentionFiles: ParsableArguments {
    @Option(help: "Queries: .npy of shape [n_q, d] or [heads, n_q, d].")
    var q: String

    @Option(help: "Keys: .npy of shape [n_k, d] or [heads, n_k, d].")
    var k: String

    @Option(help: "Values: .npy of shape [n_k, d_v] or [heads, n_k, d_v].")
    var v: String

    /// Reads and checks Q, K, V (dimensions, NaN/Inf, shapes) in precision `T`.
    func load<T: AttnScalar>(as: T.Type) throws -> (Tensor<T>, Tensor<T>, Tensor<T>) {
        let (tq, tk, tv): (Tensor<T>, Tensor<T>, Tensor<T>) = (try Npy.read(q), try Npy.read(k), try Npy.read(v))
        for (name, path, t) in [("--q", q, tq), ("--k", k, tk), ("--v", v, tv)] where t.logicalRank == 1 {
            throw AttnError.usage("\(name) \(path): need 2 or 3 dimensions, got shape \(t.shape)")
        }
        for (path, t) in [(q, tq), (k, tk), (v, tv)] where !t.isFinite {
            throw AttnError.usage("\(path): contains NaN or Inf")
        }
        try validateAttentionShapes(q: tq, k: tk, v: tv)
        return (tq, tk, tv)
    }
}

/// Q, K, V with the scale and mask of exact attention (`attention`, `verify`).
/// The default scale here is `standard` (1/√d), as in PyTorch.
struct AttentionInputs: ParsableArguments {
    @OptionGroup var files: AttentionFiles

    @Option(help: "Softmax scale s: 'paper' (1/d), 'standard' (1/√d) or a positive decimal.")
    var scale: Scale = .standard

    @Flag(help: "Causal mask, aligned bottom-right: row i sees key j iff j ≤ i + n_k − n_q.")
    var causal = false

    func load<T: AttnScalar>(as type: T.Type) throws -> (Tensor<T>, Tensor<T>, Tensor<T>) {
        try files.load(as: type)
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

import Foundation
