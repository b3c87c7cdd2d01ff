import AttnCore
import AttnPoly
import Foundation

/// The B axis of a grid: either relative, c = B/√ln n (the same c for every n,
/// which is what makes curves for different n comparable), or absolute B.
public enum BGrid: Sendable, Equatable {
    case relative([Double])
    case absolute([Double])

    /// `count` values from `lo` to `hi`, evenly spaced in log scale.
    public static func logSpaced(_ lo: Double, _ hi: Double, count: Int) -> [Double] {
        precondition(lo > 0 && hi >= lo && count >= 1)
        if count == 1 { return [lo] }
        // Round to 4 significant digits so the CSV shows the grid a reader expects.
        return (0..<count).map { i in
            let x = exp(log(lo) + (log(hi) - log(lo)) * Double(i) / Double(count - 1))
            return Double(String(format: "%.4g", x))!
        }
    }

    /// The (B, B/√ln n) pairs for size n, in grid order. The grid's own
    /// value is kept exactly; the other is derived from it.
    public func values(n: Int) -> [(B: Double, c: Double)] {
        let root = log(Double(n)).squareRoot()
        switch self {
        case .relative(let cs): return cs.map { ($0 * root, $0) }
        case .absolute(let bs): return bs.map { ($0, $0 / root) }
        }
    }

    var json: JSONValue {
        switch self {
        case .relative(let cs): return .object([("B_over_sqrt_ln_n", .array(cs.map { .double($0) }))])
        case .absolute(let bs): return .object([("B", .array(bs.map { .double($0) }))])
        }
    }
}

/// One experiment's grid: sizes, B values, input distributions, trials.
public struct ExperimentGrid: Sendable, Equatable {
    public var ns: [Int]
    public var b: BGrid
    /// Ignored by `degree-vs-b` (its degree covers every input in the box) and
    /// `hard-instance` (its inputs are the reduction's ±β vectors).
    public var distributions: [InputDistribution]
    public var trials: Int

    public init(ns: [Int], b: BGrid, distributions: [InputDistribution] = [.uniform], trials: Int = 1) {
        self.ns = ns; self.b = b; self.distributions = distributions; self.trials = trials
    }
}

/// Every parameter of a sweep that changes its CSV. Two runs with equal
/// configurations write byte-identical CSVs, whatever their thread counts.
public struct SweepConfiguration: Sendable, Equatable {
    public var experiments: [Experiment]
    public var grids: [Experiment: ExperimentGrid]
    public var seed: UInt64
    /// d = ⌈C·ln n⌉ (the theorem's regime d = Θ(log n)) unless `fixedD` is set.
    public var dConstant: Double
    /// A fixed d for every n: the transition then no longer sits at √ln n.
    public var fixedD: Int?
    /// d = ⌈C_hard·ln n⌉ for the hard instance, which needs d ≫ log₂ n so that
    /// random ±1 vectors are far apart.
    public var hardDConstant: Double
    /// ε = n^{−p}.
    public var epsilonPower: Double
    /// Rank budget r ≤ n^γ for `error-vs-b` and `hard-instance`.
    public var gamma: Double
    /// Rows checked against exact attention in `error-vs-b` (all rows if n ≤ this).
    public var sampleRows: Int
    /// Degrees above this count as "no degree suffices" (exponent reported as inf).
    public var maxDegree: Int
    /// Adds a `seconds` column. Timings differ run to run, so byte-identity
    /// across runs, resumes and shards holds only without it.
    public var timing: Bool

    public init(
        experiments: [Experiment] = Experiment.allCases, grids: [Experiment: ExperimentGrid] = Self.defaultGrids,
        seed: UInt64 = 1, dConstant: Double = 1, fixedD: Int? = nil, hardDConstant: Double = 8,
        epsilonPower: Double = 1, gamma: Double = 0.75, sampleRows: Int = 64, maxDegree: Int = 400,
        timing: Bool = false
    ) {
        self.experiments = Array(Set(experiments)).sorted()
        self.grids = grids
        self.seed = seed; self.dConstant = dConstant; self.fixedD = fixedD; self.hardDConstant = hardDConstant
        self.epsilonPower = epsilonPower; self.gamma = gamma; self.sampleRows = sampleRows
        self.maxDegree = maxDegree; self.timing = timing
    }

    /// The default grid: the headline reaches n = 2²⁰ and B/√ln n from 0.02 to 3;
    /// the dense experiments stay small. Sized to finish in well under a minute on 2 cores.
    public static let defaultGrids: [Experiment: ExperimentGrid] = [
        .degreeVsB: ExperimentGrid(
            ns: stride(from: 8, through: 20, by: 2).map { 1 << $0 },
            b: .relative(BGrid.logSpaced(0.02, 3, count: 41))),
        .errorVsB: ExperimentGrid(
            ns: [1 << 8, 1 << 10, 1 << 12, 1 << 14],
            b: .relative(BGrid.logSpaced(0.02, 3, count: 23))),
        .erankVsB: ExperimentGrid(
            ns: [128, 256, 512],
            b: .relative(BGrid.logSpaced(0.02, 3, count: 15))),
        .hardInstance: ExperimentGrid(
            ns: [256, 512],
            b: .relative(stride(from: 0.25, through: 2.5, by: 0.25).map { $0 }), trials: 4),
        .gradVsB: ExperimentGrid(
            ns: stride(from: 8, through: 14, by: 2).map { 1 << $0 },
            b: .relative(BGrid.logSpaced(0.1, 2, count: 9))),
        .gradReduction: ExperimentGrid(ns: [128, 256], b: .relative([0.5, 1, 1.5, 2])),
    ]

    /// The largest n the dense experiments accept (n×n Float64 matrices).
    public static let maxDenseN = 4096

    public func grid(_ e: Experiment) -> ExperimentGrid { grids[e] ?? Self.defaultGrids[e]! }

    /// The feature dimension used for size n.
    public func d(n: Int, experiment: Experiment) -> Int {
        let ln = log(Double(n))
        if experiment == .hardInstance { return max(2, Int((hardDConstant * ln).rounded(.up))) }
        return fixedD ?? max(1, Int((dConstant * ln).rounded(.up)))
    }

    /// ε = n^{−p}.
    public func epsilon(n: Int) -> Double { Self.epsilon(n: n, power: epsilonPower) }

    /// ε = n^{−p}: the one formula, shared with `Regime`.
    public static func epsilon(n: Int, power p: Double) -> Double { pow(Double(n), -p) }

    /// Checks every value a user can set. Throws `AttnError.usage` naming the flag
    /// (or `.infeasible` for sizes beyond the limits).
    public func validate() throws {
        if experiments.isEmpty { throw AttnError.usage(.experiment, "no experiment selected") }
        guard dConstant > 0, dConstant.isFinite, dConstant <= 64 else {
            throw AttnError.usage(.dConstant, "must be in (0, 64]")
        }
        guard hardDConstant > 0, hardDConstant.isFinite, hardDConstant <= 64 else {
            throw AttnError.usage(.hardDConstant, "must be in (0, 64]")
        }
        if let d = fixedD, !(1...512).contains(d) { throw AttnError.usage(.d, "must be in 1...512") }
        guard epsilonPower > 0, epsilonPower <= 8 else { throw AttnError.usage(.epsilonPower, "must be in (0, 8]") }
        guard gamma > 0, gamma <= 2 else { throw AttnError.usage(.gamma, "must be in (0, 2]") }
        guard sampleRows >= 1, sampleRows <= 1 << 20 else {
            throw AttnError.usage(.sampleRows, "must be in 1...1048576")
        }
        guard (0...2000).contains(maxDegree) else { throw AttnError.usage(.maxDegree, "must be in 0...2000") }
        for e in experiments {
            let g = grid(e)
            guard g.trials >= 1, g.trials <= 10_000 else { throw AttnError.usage(.trials, "must be in 1...10000") }
            guard !g.ns.isEmpty else { throw AttnError.usage(.n, "empty list") }
            for n in g.ns {
                guard n >= 4 else { throw AttnError.usage(.n, "\(n): need n ≥ 4") }
                guard n <= 1 << 30 else { throw AttnError.infeasible(.n, "\(n): above the limit 2^30") }
                if e.isDense && n > Self.maxDenseN {
                    throw AttnError.infeasible(
                        .n, "\(n): \(e.rawValue) forms n×n matrices; limit n ≤ \(Self.maxDenseN)")
                }
            }
            let bs: [Double]
            switch g.b {
            case .relative(let v): bs = v;
            case .absolute(let v): bs = v
            }
            guard !bs.isEmpty, bs.allSatisfy({ $0 > 0 && $0.isFinite && $0 <= 1e3 }) else {
                throw AttnError.usage(.bGrid, "values must be positive, finite and ≤ 1000")
            }
            // The polynomial's coefficients stay in the double range only up to R = B² ≤ maxRadius.
            if [.errorVsB, .hardInstance, .gradVsB, .gradReduction].contains(e) {
                let worst = g.ns.flatMap { n in g.b.values(n: n).map { $0.B * $0.B } }.max() ?? 0
                if worst > ExpPolynomial.maxRadius {
                    throw AttnError.infeasible(
                        .bGrid,
                        "\(e.rawValue): B² reaches \(formatShortest(worst)), above the polynomial method's limit R ≤ \(formatShortest(ExpPolynomial.maxRadius)); lower the B grid"
                    )
                }
            }
            if e != .degreeVsB && e != .hardInstance && g.distributions.isEmpty {
                throw AttnError.usage(.distribution, "empty list")
            }
        }
    }

    /// All parameters as one JSON object (also the fingerprint that resume and
    /// merge compare, so keys and their order are fixed).
    public var json: JSONValue {
        var grids: [(String, JSONValue)] = []
        for e in experiments {
            let g = grid(e)
            grids.append(
                (
                    e.rawValue,
                    .object([
                        ("n", .array(g.ns.map { .int($0) })),
                        ("b_grid", g.b.json),
                        ("distributions", .array(g.distributions.map { .string($0.rawValue) })),
                        ("trials", .int(g.trials)),
                    ])
                ))
        }
        return .object([
            ("experiments", .array(experiments.map { .string($0.rawValue) })),
            ("grids", .object(grids)),
            ("seed", .string(String(seed))),
            ("d_rule", .string(fixedD.map { "fixed d = \($0)" } ?? "d = ceil(C*ln(n))")),
            ("C", .double(dConstant)),
            ("fixed_d", fixedD.map { .int($0) } ?? .null),
            ("hard_C", .double(hardDConstant)),
            ("epsilon", .string("n^-\(formatShortest(epsilonPower))")),
            ("eps_power", .double(epsilonPower)),
            ("scale", .string("paper (1/d)")),
            ("gamma", .double(gamma)),
            ("sample_rows", .int(sampleRows)),
            ("max_degree", .int(maxDegree)),
            ("timing", .bool(timing)),
        ])
    }

    /// A one-line fingerprint of `json`, stored in partial files and sidecars.
    public var fingerprint: String {
        // FNV-1a 64 over the canonical JSON: short, stable, platform-independent.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in json.serialized().utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }
}
