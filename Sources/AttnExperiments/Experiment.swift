/// The threshold experiments `attnbound sweep` runs (Alman–Song, B = Θ(√log n)).
public enum Experiment: String, Sendable, CaseIterable, Codable, Comparable {
    /// Certified degree g, rank C(g+d, d) and cost exponent log_n(n·r·d) for
    /// ε = n^{−p}: no n×n work, so n reaches 2²⁰.
    case degreeVsB = "degree-vs-b"
    /// max|T − Att| of the polynomial method at a fixed rank budget r ≤ n^γ.
    case errorVsB = "error-vs-b"
    /// Numerical ε-rank of A = exp(QKᵀ/d) from its singular values.
    case erankVsB = "erank-vs-b"
    /// The lower bound's reduction: ±1 vectors with a planted close pair.
    case hardInstance = "hard-instance"
    /// The polynomial method for dL/dX of Alman–Song's training loss (AS24b): certified degree, rank
    /// k₁k₂, cost exponent log_n(n·k₁k₂·d), the a-priori bound and the certified measured error.
    case gradVsB = "grad-vs-b"
    /// An illustration of AS24b's lower-bound reduction: f(1) − f(0) from m gradient calls, against b/m.
    case gradReduction = "grad-reduction"

    public static func < (a: Experiment, b: Experiment) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Whether the experiment forms n×n matrices (and so needs n small).
    public var isDense: Bool { self == .erankVsB || self == .hardInstance || self == .gradReduction }

    /// Every experiment's name, comma-separated (for help texts).
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
