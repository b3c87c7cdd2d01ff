import AttnCore
import AttnTestSupport
import Foundation

/// The property tests draw Float64 problems from the shared generator (V in [−1, 1]).
typealias Problem = SeededProblem<Double>

/// The scales the tests draw from.
let testScales: [Scale] = [.paper, .standard, .decimal("0.37"), .decimal("1")]
