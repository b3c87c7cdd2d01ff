import AttnCore
import Foundation

/// A seeded, smoothly evolving diffusion-like trajectory with local attention.
///
/// Model. Each token p = (f, y, x) gets random Fourier features
/// φ_c(p) = √(2/d)·cos(ω_c·p + b_c), ω_c ~ N(0, I/ℓ²) per head, so
/// φ(p)·φ(p') ≈ exp(−|p − p'|²/2ℓ²): a local kernel over space and time.
/// The clean tensors are Q = K = β·φ and V = φ·W (W Gaussian, smooth in p).
/// Step t adds noise of level τ_t = 1 − t/(T−1) (pure at t = 0, none at the
/// end) whose pattern follows an AR(1) process with correlation ρ between
/// consecutive steps, so consecutive steps differ little.
///
/// Determinism: everything comes from `Xoshiro256StarStar(seed)` streams
/// derived with `SplitMix64.mix`; the same seed gives the same trajectory everywhere.
public struct DiffusionTrajectory<T: AttnScalar>: TrajectorySource {
    public let shape: VideoShape
    public let heads: Int
    public let d: Int
    public let steps: Int
    public let seed: UInt64
    /// ℓ, the attention radius in tokens.
    public let bandwidth: Double
    /// β, the strength of the positional signal.
    public let signal: Double
    /// Noise amplitude at τ = 1.
    public let noise: Double
    /// ρ, correlation of the noise between consecutive steps.
    public let correlation: Double

    let clean: AttentionStep<Double>
    var noiseState: [[Double]]  // q, k, v noise patterns
    var t = 0
    var rng: Xoshiro256StarStar

    public init(
        shape: VideoShape, heads: Int, d: Int, steps: Int, seed: UInt64, bandwidth: Double = 2,
        signal: Double = 10, noise: Double = 2, correlation: Double = 0.95
    ) {
        precondition(heads >= 1 && d >= 1 && steps >= 1 && bandwidth > 0 && (0...1).contains(correlation))
        self.shape = shape; self.heads = heads; self.d = d; self.steps = steps; self.seed = seed
        self.bandwidth = bandwidth; self.signal = signal; self.noise = noise; self.correlation = correlation
        let n = shape.tokens
        var frng = Xoshiro256StarStar(seed: SplitMix64.mix(seed, 1))
        var phi = [Double](repeating: 0, count: heads * n * d)
        var vals = [Double](repeating: 0, count: heads * n * d)
        let amp = (2.0 / Double(d)).squareRoot()
        for h in 0..<heads {
            let omega = (0..<(3 * d)).map { _ in frng.gaussian() / bandwidth }
            let phase = (0..<d).map { _ in frng.uniform(0, 2 * Double.pi) }
            let w = (0..<(d * d)).map { _ in frng.gaussian() }
            for f in 0..<shape.frames {
                for y in 0..<shape.height {
                    for x in 0..<shape.width {
                        let p = (f * shape.height + y) * shape.width + x, row = (h * n + p) * d
                        for c in 0..<d {
                            phi[row + c] =
                                amp
                                * cos(
                                    omega[3 * c] * Double(f) + omega[3 * c + 1] * Double(y)
                                        + omega[3 * c + 2] * Double(x) + phase[c])
                        }
                        for c in 0..<d {
                            var acc = 0.0
                            for e in 0..<d { acc += phi[row + e] * w[e * d + c] }
                            vals[row + c] = acc
                        }
                    }
                }
            }
        }
        let qk = phi.map { signal * $0 }
        clean = AttentionStep(
            q: Tensor(heads: heads, rows: n, cols: d, storage: qk),
            k: Tensor(heads: heads, rows: n, cols: d, storage: qk),
            v: Tensor(heads: heads, rows: n, cols: d, storage: vals))
        rng = Xoshiro256StarStar(seed: SplitMix64.mix(seed, 2))
        noiseState = []
    }

    public mutating func next() throws -> AttentionStep<T>? {
        guard t < steps else { return nil }
        let count = heads * shape.tokens * d
        if noiseState.isEmpty {
            noiseState = (0..<3).map { _ in (0..<count).map { _ in rng.gaussian() } }
        } else {
            let r = correlation, fresh = (1 - r * r).squareRoot()
            for a in 0..<3 { for i in 0..<count { noiseState[a][i] = r * noiseState[a][i] + fresh * rng.gaussian() } }
        }
        let tau = steps == 1 ? 0 : 1 - Double(t) / Double(steps - 1)
        t += 1
        func make(_ base: Tensor<Double>, _ z: [Double]) -> Tensor<T> {
            var s = [T](repeating: 0, count: count)
            for i in 0..<count { s[i] = T(base.storage[i] + tau * noise * z[i]) }
            return Tensor(heads: heads, rows: shape.tokens, cols: d, storage: s, logicalRank: heads == 1 ? 2 : 3)
        }
        return AttentionStep(
            q: make(clean.q, noiseState[0]), k: make(clean.k, noiseState[1]),
            v: make(clean.v, noiseState[2]))
    }
}
