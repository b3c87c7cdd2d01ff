import AttnCore
import AttnKernels
import AttnPoly
import AttnTestSupport
import Foundation
import PropertyBased
import Testing

/// `LossGradient.exact`, the Float64 reference of dL/dX, against the 256-bit evaluation of the same
/// closed form (`MPFRGradient`), and against central differences of the loss.
@Suite struct LossGradientTests {
    @Test func withinItsBoundOfTheMPFRGradient() async throws {
        let ledger = BoundLedger()
        defer { print("tightness \(TrackedBound.lossGradient.rawValue): worst \(ledger.worst(.lossGradient))") }
        await propertyCheck(
            count: 1000, input: Gen.int(in: 0...Int(Int32.max)), Gen.double(in: -3...log10(4)), Gen.int(in: 0...15)
        ) { seed, lb, shape in
            let p = try GradientPolyMethodTests.problem(seed: UInt64(seed), B: pow(10, lb), shape: shape)
            let ref = try LossGradient.exact(p)
            let mp = MPFRGradient(p)
            for i in ref.gradient.indices {
                let e = max(0, abs(ref.gradient[i] - mp.gradient[i]) * (1 - 0x1p-50) - mp.radius)
                #expect(ledger.within(.lossGradient, error: e, bound: ref.bounds[i]))
            }
        }
    }

    /// The closed form is the derivative: central differences of L (in Float64, step 10⁻⁵) agree to 10⁻⁶.
    @Test func isTheDerivativeOfTheLoss() throws {
        var rng = Xoshiro256StarStar(seed: 11)
        let p = try GradientProblem.random(n: 12, d: 2, entryBound: 1.2, using: &rng)
        let g = try LossGradient.exact(p).gradient
        for k in 0..<4 {
            var xp = p.x, xm = p.x
            xp[k] += 1e-5
            xm[k] -= 1e-5
            let fd = (try LossGradient.exact(p.with(x: xp)).loss - LossGradient.exact(p.with(x: xm)).loss) / 2e-5
            #expect(abs(fd - g[k]) <= 1e-6 * max(1, abs(g[k])), "entry \(k): \(fd) vs \(g[k])")
        }
    }

    @Test func scoresBeyondTheLimitAreRefused() throws {
        let p = try GradientProblem(n: 2, d: 1, a1: [30, 30], x: [1], a2: [30, -30], a3: [1, -1], y: [1], e: [0, 0])
        #expect(throws: AttnError.self) { _ = try LossGradient.exact(p) }
    }
}

/// The same gradient a third way: attention's backward (`ReferenceBackward`, AttnKernels' yardstick) at
/// Q = A₁X, K = A₂, V = A₃Y, dO = O − E gives dQ, and dL/dX = A₁ᵀ·dQ (Proofs/gradient-polynomial-method.md §1).
@Suite struct LossGradientVersusBackwardTests {
    @Test(arguments: [(48, 3, 1.5), (20, 5, 0.7)])
    func agreesWithTheReferenceBackward(n: Int, d: Int, B: Double) throws {
        var rng = Xoshiro256StarStar(seed: UInt64(n + d))
        let p = try GradientProblem.random(n: n, d: d, entryBound: B, using: &rng)  // X = Y = I: Q = A₁, V = A₃
        let q = Tensor(rows: n, cols: d, storage: p.a1), k = Tensor(rows: n, cols: d, storage: p.a2)
        let v = Tensor(rows: n, cols: d, storage: p.a3)
        let o = try ReferenceAttention.compute(q: q, k: k, v: v, scale: .paper)
        let dO = Tensor(rows: n, cols: d, storage: (0..<(n * d)).map { o.storage[$0] - p.e[$0] })
        let grads = try ReferenceBackward.compute(AttentionTensors(q: q, k: k, v: v), dO: dO, scale: .paper)
        var g = [Double](repeating: 0, count: d * d)
        for j in 0..<n {
            for a in 0..<d { for b in 0..<d { g[a * d + b] += p.a1[j * d + a] * grads.dq.storage[j * d + b] } }
        }
        let ref = try LossGradient.exact(p)
        for i in g.indices { #expect(abs(g[i] - ref.gradient[i]) <= 1e-11 * max(1, abs(ref.gradient[i]))) }
    }
}
