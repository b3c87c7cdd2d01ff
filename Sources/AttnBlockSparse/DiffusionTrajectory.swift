import AttnCore
import Foundation

/// Q, K, V of one attention layer at one denoising step.
public struct AttentionStep<T: AttnScalar>: Sendable {
    public var q: Tensor<T>
    public var k: Tensor<T>
    public var v: Tensor<T>
    public init(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>) { self.q = q; self.k = k; self.v = v }
}

/// A sequence of denoising steps, read one at a time.
public protocol TrajectorySource {
    associatedtype Scalar: AttnScalar
    /// Number of steps T.
    var steps: Int { get }
    /// The next step, or nil after the last.
    mutating func next() throws -> AttentionStep<Scalar>?
}

/// Video-like token grid: token index = (frame·height + y)·width + x.
public struct VideoShape: Sendable, Equatable {
    public var frames: Int, height: Int, width: Int
    public init(frames: Int, height: Int, width: Int) {
        precondition(frames >= 1 && height >= 1 && width >= 1)
        self.frames = frames; self.height = height; self.width = width
    }
    public var tokens: Int { frames * height * width }
}

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

    public init(shape: VideoShape, heads: Int, d: Int, steps: Int, seed: UInt64, bandwidth: Double = 2,
                signal: Double = 10, noise: Double = 2, correlation: Double = 0.95) {
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
            for f in 0..<shape.frames { for y in 0..<shape.height { for x in 0..<shape.width {
                let p = (f * shape.height + y) * shape.width + x, row = (h * n + p) * d
                for c in 0..<d {
                    phi[row + c] = amp * cos(omega[3 * c] * Double(f) + omega[3 * c + 1] * Double(y)
                                             + omega[3 * c + 2] * Double(x) + phase[c])
                }
                for c in 0..<d {
                    var acc = 0.0
                    for e in 0..<d { acc += phi[row + e] * w[e * d + c] }
                    vals[row + c] = acc
                }
            }}}
        }
        let qk = phi.map { signal * $0 }
        clean = AttentionStep(q: Tensor(heads: heads, rows: n, cols: d, storage: qk),
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
        return AttentionStep(q: make(clean.q, noiseState[0]), k: make(clean.k, noiseState[1]),
                             v: make(clean.v, noiseState[2]))
    }
}

/// Replay of a user trajectory stored as one .npy per tensor per step.
///
/// Convention: a folder holding `q_<t>.npy`, `k_<t>.npy`, `v_<t>.npy` for
/// t = 0, 1, …, T−1 (decimal, leading zeros allowed: `q_007.npy` is step 7),
/// each `[n, d]` or `[heads, n, d]`, every step with the same shapes.
/// A 4-D `[steps, heads, n, d]` array is not supported by the .npy reader, hence one file per step.
public struct TrajectoryReplay<T: AttnScalar>: TrajectorySource {
    public let directory: String
    public let steps: Int
    var files: [(q: String, k: String, v: String)]
    var t = 0
    var firstShapes: [[Int]]?

    /// Scans the folder. - Throws: `AttnError.usage` if steps are missing, incomplete or the folder is empty.
    public init(directory: String) throws {
        self.directory = directory
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw AttnError.usage(.replay, "\(directory): not a readable folder")
        }
        var found: [String: [Int: String]] = ["q": [:], "k": [:], "v": [:]]
        for name in names where name.hasSuffix(".npy") {
            let stem = name.dropLast(4)
            guard let us = stem.firstIndex(of: "_") else { continue }
            let kind = String(stem[..<us]), digits = stem[stem.index(after: us)...]
            guard found[kind] != nil, !digits.isEmpty, digits.allSatisfy(\.isASCII), let step = Int(digits), step >= 0 else { continue }
            guard found[kind]![step] == nil else {
                throw AttnError.usage(.replay, "\(directory): step \(step) of \(kind) appears twice")
            }
            found[kind]![step] = (directory as NSString).appendingPathComponent(name)
        }
        let count = found["q"]!.count
        guard count > 0 else { throw AttnError.usage(.replay, "\(directory): no q_<t>.npy files") }
        var list: [(String, String, String)] = []
        for s in 0..<count {
            guard let q = found["q"]![s], let k = found["k"]![s], let v = found["v"]![s] else {
                throw AttnError.usage(.replay, "\(directory): steps must be 0..<\(count) with q, k and v each; step \(s) is incomplete")
            }
            list.append((q, k, v))
        }
        guard found["k"]!.count == count, found["v"]!.count == count else {
            throw AttnError.usage(.replay, "\(directory): q, k and v have different step counts")
        }
        files = list
        steps = count
    }

    public mutating func next() throws -> AttentionStep<T>? {
        guard t < steps else { return nil }
        let f = files[t]
        let read = try AttentionTensors<T>(q: f.q, k: f.k, v: f.v)  // the one reader: 4-D, float16, GQA
        let (k, v) = read.expandedKV
        let step = AttentionStep<T>(q: read.q, k: k, v: v)
        let shapes = [step.q.shape, step.k.shape, step.v.shape]
        if let first = firstShapes, first != shapes {
            throw AttnError.usage("\(f.q): step \(t) has shapes \(shapes), step 0 had \(first)")
        }
        firstShapes = shapes
        t += 1
        return step
    }
}
