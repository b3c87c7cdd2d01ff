import AttnCore
import AttnPoly
import Foundation

/// What a user asks of a sweep, before defaults: the whole `sweep` command as one value.
///
/// Grid fields left nil keep each experiment's default grid (`SweepConfiguration.defaultGrids`);
/// `cMin`, `cMax` and `cSteps` reshape the default B/√ln n grid, `bValues` replaces it by absolute
/// B values. `configuration()` turns the request into the validated `SweepConfiguration`, and
/// `SweepRunner.run(_:in:version:argv:progress:)` runs it. Checked by `SweepRequestTests`.
public struct SweepRequest: Sendable, Equatable {
    public var experiments: [Experiment]?
    public var ns: [Int]?
    public var cMin: Double?, cMax: Double?
    public var cSteps: Int?
    public var bValues: [Double]?
    public var distributions: [InputDistribution]?
    public var trials: Int?
    public var dConstant = 1.0, hardDConstant = 8.0, epsilonPower = 1.0, gamma = 0.75
    public var fixedD: Int?
    public var sampleRows = 64, maxDegree = 400
    public var family = ExpFamily.chebyshev
    public var seed: UInt64 = 1
    /// Adds the `seconds` column (the CSV is then no longer byte-reproducible).
    public var timing = false
    public var shard = Shard.whole
    /// Continue from the `.csv.partial` file of a killed run.
    public var resume = false
    /// Also draw the SVG (whole runs only: a shard's figure would miss points).
    public var plot = true
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    public init() {}

    /// The configuration the request describes, validated (`SweepConfiguration.validate`).
    /// - Throws: `AttnError.usage` naming the parameter (`cMin`, `cMax`, `cSteps`, `bGrid`, …);
    ///   `.infeasible` for sizes beyond the limits.
    public func configuration() throws -> SweepConfiguration {
        if let s = cSteps, !(1...10_000).contains(s) { throw AttnError.usage(.cSteps, "must be in 1...10000") }
        for (p, v) in [(Parameter.cMin, cMin), (.cMax, cMax)] {
            if let v, !(v > 0 && v.isFinite && v <= 100) { throw AttnError.usage(p, "must be in (0, 100]") }
        }
        let reshaped = cMin != nil || cMax != nil || cSteps != nil
        if bValues != nil && reshaped {
            throw AttnError.usage(.bGrid, "absolute B values cannot be combined with a B/√ln n grid")
        }
        let exps = experiments ?? Experiment.allCases
        var grids: [Experiment: ExperimentGrid] = [:]
        for e in exps {
            var g = SweepConfiguration.defaultGrids[e]!
            if let ns { g.ns = ns }
            if let bValues { g.b = .absolute(bValues) }
            if reshaped, case .relative(let cs) = g.b {
                let lo = cMin ?? cs.first!, hi = cMax ?? cs.last!
                guard lo <= hi else { throw AttnError.usage(.cMin, "\(lo) is above the largest B/√ln n, \(hi)") }
                g.b = .relative(BGrid.logSpaced(lo, hi, count: cSteps ?? cs.count))
            }
            if let distributions { g.distributions = distributions }
            if let trials { g.trials = trials }
            grids[e] = g
        }
        let cfg = SweepConfiguration(
            experiments: exps, grids: grids, seed: seed, dConstant: dConstant, fixedD: fixedD,
            hardDConstant: hardDConstant, epsilonPower: epsilonPower, gamma: gamma, sampleRows: sampleRows,
            maxDegree: maxDegree, timing: timing)
        try cfg.validate()
        return cfg
    }

    /// A warning worth a line on stderr before the run, if any.
    public var note: String? {
        fixedD.map {
            "note: d is fixed at \($0) for every n; the transition then moves like a power of n and no longer sits "
                + "at B = Θ(√ln n)"
        }
    }
}

extension SweepRunner {
    /// `sweep` as one call: validates `request`, creates `directory` if missing, runs (resuming
    /// if asked), draws the SVG of a whole run, and reports the files, points, time and summary.
    /// The CSV and sidecar are written by `run(resume:version:argv:progress:)`. `note` receives
    /// the request's warning (`SweepRequest.note`), once it is valid and before any point runs.
    public static func run(
        _ request: SweepRequest, in directory: String, version: String, argv: [String], progress: ProgressLine? = nil,
        note: ((String) -> Void)? = nil
    ) throws -> RunReport {
        let (configuration, dir) = (try request.configuration(), try folder(directory))
        if let text = request.note { note?(text) }
        let runner = SweepRunner(
            configuration: configuration, backend: AttnPolyBackend(family: request.family),
            shard: request.shard, threads: request.threads, directory: dir)
        let result = try runner.run(
            resume: request.resume, version: version, argv: argv,
            progress: progress.map { line in { @Sendable in line.update(done: $0, total: $1, fraction: $2) } })
        progress?.finish()
        var svg: String?
        if request.plot && request.shard.isWhole {
            let url = runner.directory.appendingPathComponent(runner.stem + ".svg")
            try AtomicFile.write(
                try SweepPlot.svg(try SweepTable(csv: result.csvText, source: result.csv.path)), to: url)
            svg = url.path
        }
        return RunReport(
            command: "sweep", seed: request.seed, text: [try runner.text(result, svg: svg)],
            json: try runner.json(result, svg: svg))
    }

    /// `path` as a folder, created if missing.
    /// - Throws: `AttnError.usage(.output, …)` if it is a file or cannot be created.
    static func folder(_ path: String) throws -> URL {
        guard !path.isEmpty else { throw AttnError.usage(.output, "empty path") }
        let dir = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), !isDir.boolValue {
            throw AttnError.usage(.output, "\(path): exists and is not a folder")
        }
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw AttnError.usage(.output, "\(path): cannot create the folder")
        }
        return dir
    }
}
