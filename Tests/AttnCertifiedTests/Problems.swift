import AttnCore
import AttnTestSupport
import PropertyBased

/// The certified engine's property tests draw Float32 problems from the shared generator.
typealias Problem = SeededProblem<Float>

/// Small problems of every shape class: n_k ≥ n_q (so causal is valid), B up to 8.
let smallProblems = zip(
    Gen.int(in: 0...Int.max), Gen.int(in: 1...6), Gen.int(in: 0...6), Gen.int(in: 1...5),
    Gen.int(in: 1...3), Gen.double(in: 0.1...8)
).map { seed, nq, extra, d, dv, b in
    Problem(seed: UInt64(seed), nq: nq, nk: nq + extra, d: d, dv: dv, bound: b)
}

/// The scales tried everywhere: both conventions and an exact decimal.
let scales: [Scale] = [.paper, .standard, .decimal("0.37")]

/// One of `scales`.
let anyScale = Gen.element(of: scales).map { $0! }
