import AttnCore
import Foundation

/// One grid point: what a worker measures, and everything that fixes its CSV rows.
///
/// Points are numbered 0, 1, 2, … in a fixed order (experiment, distribution,
/// n, B, trial). A point's seed is `SplitMix64.mix(seed, index)`, so its data
/// depend only on the configuration and its index: never on the thread count,
/// the shard, or whether the run was resumed.
public struct SweepPoint: Sendable, Equatable {
    public let index: Int
    public let experiment: Experiment
    /// The input distribution's name, or "worst_case" / "planted_pair" for the
    /// experiments whose inputs are not drawn from a box distribution.
    public let distribution: String
    public let n: Int
    public let d: Int
    public let B: Double
    /// B/√ln n, the variable against which curves for different n collapse.
    public let c: Double
    public let trial: Int
    public let seed: UInt64

    /// R = B², the score radius with the paper's scale 1/d.
    public var radius: Double { B * B }

    /// A rough cost in seconds on one core (fitted on a 2-core EPYC), used to start
    /// the most expensive points first and to weigh the progress line's ETA.
    var costEstimate: Double {
        let n = Double(self.n), d = Double(self.d)
        switch experiment {
        case .degreeVsB: return 1e-5
        case .errorVsB: return 6e-9 * pow(n, 1.75) * d
        case .erankVsB: return 2.6e-9 * n * n * n
        case .hardInstance: return 3e-8 * n * n * d
        case .gradVsB: return self.n <= SweepConfiguration.maxDenseN ? 1e-8 * n * n * d : 1e-3
        case .gradReduction: return 33 * 1e-8 * n * n * d
        }
    }
}

extension SweepConfiguration {
    /// Every point of the sweep in its canonical order.
    ///
    /// Postcondition: `points()[k].index == k`.
    public func points() -> [SweepPoint] {
        var out: [SweepPoint] = []
        for e in experiments {
            let g = grid(e)
            let dists: [String]
            switch e {
            case .degreeVsB: dists = ["worst_case"]
            case .hardInstance: dists = ["planted_pair"]
            default: dists = g.distributions.map(\.rawValue)
            }
            for dist in dists {
                for n in g.ns {
                    for (B, c) in g.b.values(n: n) {
                        for t in 0..<(e == .degreeVsB ? 1 : g.trials) {
                            let k = out.count
                            out.append(
                                SweepPoint(
                                    index: k, experiment: e, distribution: dist, n: n,
                                    d: d(n: n, experiment: e), B: B, c: c, trial: t,
                                    seed: SplitMix64.mix(seed, UInt64(k))))
                        }
                    }
                }
            }
        }
        return out
    }
}

/// `--shard i/N`: shard i (1-based) owns the points whose index ≡ i−1 (mod N).
/// Round-robin rather than blocks, so every shard gets a similar mix of costs.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public static let whole = Shard(index: 1, count: 1)

    public init(index: Int, count: Int) {
        precondition(count >= 1 && (1...count).contains(index))
        self.index = index; self.count = count
    }

    /// Parses "i/N" with 1 ≤ i ≤ N ≤ 100000.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, n <= 100_000, (1...n).contains(i)
        else { throw AttnError.usage(.shard, "\(text): expected i/N with 1 ≤ i ≤ N, e.g. 2/8") }
        self.init(index: i, count: n)
    }

    public func owns(_ pointIndex: Int) -> Bool { pointIndex % count == index - 1 }

    public var isWhole: Bool { count == 1 }
    public var description: String { "\(index)/\(count)" }
}
