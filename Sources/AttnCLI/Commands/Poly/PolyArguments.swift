import ArgumentParser
import AttnCore
import AttnPoly

extension ExpFamily: ExpressibleByArgument {}
extension ApproxMethod: ExpressibleByArgument {}

/// Q, K, V for the polynomial-method commands. Unlike `AttentionInputs`, the
/// default scale is `paper` (s = 1/d, Alman–Song), and there is no causal mask.
struct PolyInputs: ParsableArguments {
    @OptionGroup var files: AttentionFiles

    @Option(help: "Softmax scale s: 'paper' (1/d, Alman–Song; the default here), 'standard' (1/√d) or a positive decimal.")
    var scale: Scale = .paper

    /// Reads and checks Q, K, V (shapes, NaN/Inf) in Float64.
    func load() throws -> (Tensor<Double>, Tensor<Double>, Tensor<Double>) {
        try files.load(as: Double.self)
    }
}

/// Scientific notation with 3 significant digits for tables.
func sci(_ x: Double) -> String { TextFormat.sci(x) }
