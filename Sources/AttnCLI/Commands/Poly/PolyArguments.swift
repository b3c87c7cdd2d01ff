import ArgumentParser
import AttnCore
import AttnPoly

extension ExpFamily: ExpressibleByArgument {}
extension ApproxMethod: ExpressibleByArgument {}

/// Q, K, V for the polynomial-method commands. Unlike `AttentionInputs`, the
/// default scale is `paper` (s = 1/d, Alman–Song), and there is no causal mask.
struct PolyInputs: ParsableArguments {
    @Option(help: "Queries: .npy of shape [n_q, d] or [heads, n_q, d].")
    var q: String

    @Option(help: "Keys: .npy of shape [n_k, d] or [heads, n_k, d].")
    var k: String

    @Option(help: "Values: .npy of shape [n_k, d_v] or [heads, n_k, d_v].")
    var v: String

    @Option(help: "Softmax scale s: 'paper' (1/d, Alman–Song; the default here), 'standard' (1/√d) or a positive decimal.")
    var scale: Scale = .paper

    /// Reads and checks Q, K, V (shapes, NaN/Inf) in Float64.
    func load() throws -> (Tensor<Double>, Tensor<Double>, Tensor<Double>) {
        let (tq, tk, tv): (Tensor<Double>, Tensor<Double>, Tensor<Double>) = (try Npy.read(q), try Npy.read(k), try Npy.read(v))
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

/// Scientific notation with 3 significant digits for tables.
func sci(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    return String(format: "%.3g", x)
}
