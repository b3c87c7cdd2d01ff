import AttnCore
import CLapack
import Foundation

/// The inputs of Alman–Song's training loss (AS24b, arXiv 2402.04497):
///
///   L(X) = ½‖D(X)⁻¹ exp(A₁XA₂ᵀ/d) A₃Y − E‖²_F,   D(X) = diag(exp(A₁XA₂ᵀ/d)·1ₙ),
///
/// with A₁, A₂, A₃, E ∈ ℝ^{n×d} and X, Y ∈ ℝ^{d×d}, all row-major Float64. The gradient dL/dX is
/// what `LossGradient.exact` (the certified reference) and `GradientPolyMethod` (the polynomial
/// method) compute. In attention's words: Q = A₁X, K = A₂, V = A₃Y, scale 1/d, and dO = O − E.
public struct GradientProblem: Sendable, Equatable {
    public let n: Int
    public let d: Int
    public let a1: [Double]
    public let x: [Double]
    public let a2: [Double]
    public let a3: [Double]
    public let y: [Double]
    public let e: [Double]

    /// The largest d accepted (the loss's X is d × d; the method's rank grows like C(g + d, d)).
    public static let maxD = 512

    /// - Throws: `AttnError.usage` naming the argument at fault: n < 1, d outside 1…`maxD`, a
    ///   matrix of the wrong size, or a NaN/±∞ entry.
    public init(
        n: Int, d: Int, a1: [Double], x: [Double], a2: [Double], a3: [Double], y: [Double], e: [Double]
    ) throws {
        guard n >= 1 else { throw AttnError.usage(.n, "\(n) must be ≥ 1") }
        guard (1...Self.maxD).contains(d) else { throw AttnError.usage(.d, "\(d) must be in 1...\(Self.maxD)") }
        let (nd, dd) = n.multipliedReportingOverflow(by: d)
        guard !dd else { throw AttnError.usage(.n, "n·d overflows") }
        for (name, m, count) in [
            (Parameter.a1, a1, nd), (.x, x, d * d), (.a2, a2, nd), (.a3, a3, nd), (.y, y, d * d), (.e, e, nd),
        ] {
            guard m.count == count else {
                throw AttnError.usage(name, "has \(m.count) entries, expected \(count) (n = \(n), d = \(d))")
            }
            guard m.allSatisfy(\.isFinite) else { throw AttnError.usage(name, "has a NaN or infinite entry") }
        }
        (self.n, self.d, self.a1, self.x, self.a2, self.a3, self.y, self.e) = (n, d, a1, x, a2, a3, y, e)
    }

    /// A random instance: A₁, A₂ with entries in [−B, B] from `distribution`, X = Y = I (so
    /// ‖A₁X‖∞, ‖A₂‖∞ ≤ B, the theorem's hypothesis), A₃ and E in [−1, 1]. Scores lie in [−dB², dB²]/d.
    public static func random(
        n: Int, d: Int, entryBound B: Double, distribution: InputDistribution = .uniform,
        using rng: inout Xoshiro256StarStar
    ) throws -> GradientProblem {
        func draw(_ b: Double) -> [Double] {
            let t: Tensor<Double> = distribution.sample(rows: n, cols: d, bound: b, using: &rng)
            return t.storage
        }
        let eye = (0..<(d * d)).map { $0 % (d + 1) == 0 ? 1.0 : 0 }
        let a1 = draw(B), a2 = draw(B), a3 = draw(1), e = draw(1)
        return try GradientProblem(n: n, d: d, a1: a1, x: eye, a2: a2, a3: a3, y: eye, e: e)
    }

    /// The same problem at another X (the reduction's X = λ·d·I).
    public func with(x newX: [Double]) throws -> GradientProblem {
        try GradientProblem(n: n, d: d, a1: a1, x: newX, a2: a2, a3: a3, y: y, e: e)
    }

    /// fl(A₁X) (n × d), fl(A₃Y) (n × d) and the majorants |A₁||X|, |A₃||Y| the error bounds use.
    var products: (q: [Double], h: [Double], qBar: [Double], hBar: [Double]) {
        (
            Self.multiply(a1, x, rows: n, d: d), Self.multiply(a3, y, rows: n, d: d),
            Self.multiply(a1.map(abs), x.map(abs), rows: n, d: d), Self.multiply(a3.map(abs), y.map(abs), rows: n, d: d)
        )
    }

    /// (rows × d)·(d × d) by BLAS.
    static func multiply(_ a: [Double], _ b: [Double], rows: Int, d: Int) -> [Double] {
        var c = [Double](repeating: 0, count: rows * d)
        cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(rows), blasint(d), blasint(d), 1, a, blasint(d), b,
            blasint(d), 0, &c, blasint(d))
        return c
    }
}
