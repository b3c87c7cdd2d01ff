import AttnCore
import AttnTestSupport

/// The kernel tests' problems come from the shared adversarial generator (issue 11).
typealias AttentionCase = AdversarialCase

extension AdversarialCase {
    /// A uniform problem with entries of Q and K in [−bound, bound] (the regression cases' old shape).
    init(heads: Int, nq: Int, nk: Int, d: Int, dv: Int, bound: Double, scale: Scale, causal: Bool, seed: UInt64) {
        self.init(
            regime: .uniform, heads: heads, nq: nq, nk: nk, d: d, dv: dv, magnitude: bound, scale: scale,
            causal: causal, seed: seed)
    }
}
