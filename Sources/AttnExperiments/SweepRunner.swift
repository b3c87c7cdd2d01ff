import AttnCore
import AttnKernels
import CLapack
import Foundation

/// What a finished sweep wrote.
public struct SweepResult: Sendable {
    public let csv: URL
    public let sidecar: URL
    /// The CSV's full text (header + rows in point order).
    public let csvText: String
    public let pointsTotal: Int
    public let pointsInShard: Int
    /// Points measured in this process (the rest came from the partial file).
    public let pointsMeasured: Int
    public let wallSeconds: Double
}

/// Runs a sweep (or one shard of it) into `<dir>/<stem>.csv` + `.json`.
///
/// Guarantees:
/// - The CSV is the header plus, for each owned point in index order, its rows.
///   Its bytes depend only on the configuration and backend: not on `threads`,
///   on kills and `resume`, or on sharding (merging shards gives the same file).
/// - Each finished point is appended to `<stem>.csv.partial` at once, so a
///   killed run loses only the points in flight; `resume` picks up from there.
/// - The CSV and sidecar are published by rename; the partial file is
///   removed only after both are in place.
public struct SweepRunner: Sendable {
    public let configuration: SweepConfiguration
    public let backend: any PolynomialBackend
    public let shard: Shard
    public let threads: Int
    public let directory: URL
    public let stem: String

    public init(
        configuration: SweepConfiguration, backend: any PolynomialBackend, shard: Shard = .whole,
        threads: Int, directory: URL, stem: String? = nil
    ) {
        self.configuration = configuration
        self.backend = backend
        self.shard = shard
        self.threads = max(1, threads)
        self.directory = directory
        self.stem = stem ?? Self.defaultStem(shard)
    }

    /// "sweep", or "sweep.shard-2-of-8" for a shard.
    public static func defaultStem(_ shard: Shard) -> String {
        shard.isWhole ? "sweep" : "sweep.shard-\(shard.index)-of-\(shard.count)"
    }

    public var csvURL: URL { directory.appendingPathComponent(stem + ".csv") }
    public var sidecarURL: URL { directory.appendingPathComponent(stem + ".json") }
    public var partialURL: URL { directory.appendingPathComponent(stem + ".csv.partial") }

    /// The fingerprint of everything that fixes the CSV bytes.
    public var fingerprint: String { configuration.fingerprint + "-" + backend.name }

    /// - Parameters:
    ///   - resume: continue from `<stem>.csv.partial` if it exists.
    ///   - progress: called after each point with (points done, points owned, the
    ///     estimated fraction of the shard's work done); possibly from several threads.
    /// - Throws: `AttnError` from validation, I/O, or a measurement.
    public func run(
        resume: Bool, version: String, argv: [String] = [],
        progress: (@Sendable (Int, Int, Double) -> Void)? = nil
    ) throws -> SweepResult {
        try configuration.validate()
        let started = Date(), t0 = Timing.now()
        let all = configuration.points()
        let mine = all.filter { shard.owns($0.index) }
        let header = PartialFile.headerLine(fingerprint: fingerprint, backend: backend.name, shard: shard)

        var done: [Int: [String]] = [:]
        var keep = 0
        if resume, !FileManager.default.fileExists(atPath: partialURL.path),
            let finished = try finishedResult(all.count, mine.count)
        {
            return finished  // nothing left to do: the run was already published
        }
        if resume, FileManager.default.fileExists(atPath: partialURL.path) {
            (done, keep) = try PartialFile.load(partialURL, expectedHeader: header)
            done = done.filter { shard.owns($0.key) && $0.key < all.count }
        }
        let writer = try PartialWriter(url: partialURL, header: header, keepingPrefix: keep)
        let resumed = done.count
        // Most expensive first, so the last points to finish are short ones.
        let pending = mine.filter { done[$0.index] == nil }
            .sorted { ($0.costEstimate, -$0.index) > ($1.costEstimate, -$1.index) }

        let totalCost = mine.reduce(0) { $0 + $1.costEstimate }
        let doneCost = mine.reduce(0) { $0 + (done[$1.index] == nil ? 0 : $1.costEstimate) }
        let fresh = try measureAll(
            pending, writer: writer, alreadyDone: resumed, total: mine.count,
            costDone: doneCost, costTotal: totalCost, progress: progress)
        writer.finish()
        done.merge(fresh) { a, _ in a }

        var text = SweepCSV.header(timing: configuration.timing)
        for p in mine { text += done[p.index]!.joined() }
        let wall = Timing.now() - t0
        let sidecar = Sidecar.sweep(
            version: version, argv: argv, runner: self, started: started, wallSeconds: wall,
            pointsTotal: all.count, pointsInShard: mine.count, measured: pending.count,
            resumed: resumed, csvText: text)
        try sidecar.write(csv: text, to: csvURL)
        try? FileManager.default.removeItem(at: partialURL)
        return SweepResult(
            csv: csvURL, sidecar: sidecarURL, csvText: text, pointsTotal: all.count,
            pointsInShard: mine.count, pointsMeasured: pending.count, wallSeconds: wall)
    }

    /// The published result of this very sweep (same fingerprint and shard), if there is one.
    private func finishedResult(_ total: Int, _ inShard: Int) throws -> SweepResult? {
        guard let data = FileManager.default.contents(atPath: sidecarURL.path),
            let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            obj["fingerprint"] as? String == fingerprint,
            let sh = obj["shard"] as? [String: Any], sh["index"] as? Int == shard.index,
            sh["count"] as? Int == shard.count,
            let csv = FileManager.default.contents(atPath: csvURL.path)
        else { return nil }
        let text = String(decoding: csv, as: UTF8.self)
        // A CSV in an older column layout is not this sweep's result: measure again.
        guard text.hasPrefix(SweepCSV.header(timing: configuration.timing)) else { return nil }
        guard (try? SweepTable(csv: text))?.records.map(\.point).last != nil || inShard == 0 else { return nil }
        return SweepResult(
            csv: csvURL, sidecar: sidecarURL, csvText: text, pointsTotal: total, pointsInShard: inShard,
            pointsMeasured: 0, wallSeconds: 0)
    }

    /// Measures `points` on `threads` workers, appending each to the partial file.
    private func measureAll(
        _ points: [SweepPoint], writer: PartialWriter, alreadyDone: Int, total: Int,
        costDone: Double, costTotal: Double,
        progress: (@Sendable (Int, Int, Double) -> Void)?
    ) throws -> [Int: [String]] {
        let measurer = SweepMeasurer(configuration: configuration, backend: backend)
        let sink = ResultSink(alreadyDone: alreadyDone, cost: costDone)
        let timing = configuration.timing
        // Parallelism is over points; BLAS inside a point stays single-threaded,
        // which also keeps every point's arithmetic independent of `threads`.
        BLASThreads.withSingleThreadedBLAS {
            Parallel.forEachJob(points.count, workers: threads) { worker in
                while !sink.failed, let job = worker.next() {
                    let p = points[job]
                    do {
                        let t = Timing.now()
                        var rows = try measurer.measure(p)
                        let secs = Timing.now() - t
                        if timing { for r in rows.indices { rows[r].seconds = secs } }
                        let eps = configuration.epsilon(n: p.n)
                        let lines = rows.map { SweepCSV.line(point: p, epsilon: eps, row: $0, timing: timing) }
                        try writer.append(PartialFile.record(index: p.index, lines: lines))
                        let (count, cost) = sink.add(p.index, lines, cost: p.costEstimate)
                        progress?(count, total, costTotal > 0 ? Swift.min(1, cost / costTotal) : 1)
                    } catch {
                        sink.fail(error)
                    }
                }
            }
        }
        if let e = sink.error { throw e }
        return sink.results
    }
}

/// Collects finished points from the workers (lock-protected).
private final class ResultSink: @unchecked Sendable {
    private let lock = NSLock()
    private var done: Int
    private var cost: Double
    private(set) var results: [Int: [String]] = [:]
    private(set) var error: Error?

    init(alreadyDone: Int, cost: Double) { done = alreadyDone; self.cost = cost }

    var failed: Bool { lock.lock(); defer { lock.unlock() }; return error != nil }

    func add(_ index: Int, _ lines: [String], cost c: Double) -> (Int, Double) {
        lock.lock(); defer { lock.unlock() }
        results[index] = lines
        done += 1
        cost += c
        return (done, cost)
    }

    func fail(_ e: Error) {
        lock.lock(); defer { lock.unlock() }
        if error == nil { error = e }
    }
}
