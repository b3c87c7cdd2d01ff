import AttnCore
import CLapack
import Dispatch
import Foundation
import Synchronization

/// Which engine decides `verify`'s entries.
public enum VerifyEngine: String, Sendable, CaseIterable {
    /// The float engine first; only rows it leaves undecided go to GMP/MPFR.
    case auto
    /// The float engine only (rows it cannot decide stay undecided).
    case float
    /// GMP/MPFR for every row.
    case exact
}

/// What `verify` checks and how.
public struct VerifyOptions: Sendable {
    /// Pass iff |candidate − truth| ≤ atol + rtol·|truth| for every entry.
    public var atol: Double
    public var rtol: Double
    public var engine: VerifyEngine = .auto
    /// Query heads (within each batch entry) to certify; nil = all.
    public var heads: Range<Int>? = nil
    /// Bits of the GMP/MPFR enclosures.
    public var precision: Int = 256
    /// A row log-sum-exp to certify beside the output, or nil.
    public var lse: LSECandidate? = nil
    public var threads: Int? = nil
    public init(atol: Double, rtol: Double = 0) { self.atol = atol; self.rtol = rtol }

    /// A negative or NaN tolerance would make the pass test |cand − truth| ≤ atol + rtol·|truth| unsound
    /// (a negative rtol certifies against the wrong end of the enclosure).
    /// - Throws: `AttnError.usage(.atol / .rtol, …)` unless both are finite and ≥ 0 (issue 23).
    public func validate() throws {
        try Parameter.atol.require(atol.isFinite && atol >= 0, "must be finite and ≥ 0")
        try Parameter.rtol.require(rtol.isFinite && rtol >= 0, "must be finite and ≥ 0")
    }
}

/// The certified verdict on a candidate output: mergeable across head shards.
public struct TieredVerificationReport: Sendable, Equatable {
    /// A certified upper bound on max |candidate − truth| over the entries checked.
    public var maxErrorBound: Double
    /// Where it is attained (batch, head, row, col), counted from 0.
    public var batch: Int, head: Int, row: Int, col: Int
    /// A certified upper bound on max |candidate − truth| / |truth| (+∞ if some enclosure touches 0).
    public var maxRelErrorBound: Double
    /// An upper bound on the widest enclosure of the truth used (float or GMP).
    public var maxWidthBound: Double
    public var entries: Int
    /// Entries that certifiably fail the tolerance, and entries left undecided.
    public var failing: Int
    public var undecided: Int
    /// The BLAS library and core (OpenBLAS's own report).
    public static var blas: String { BLASAssumptions.description }

    /// Rows decided by the float engine, by GMP/MPFR, and rows left undecided.
    public var rowsFloat: Int
    public var rowsExact: Int
    public var rowsUndecided: Int
    /// Query heads covered, as half-open ranges within each batch entry.
    public var headRanges: [Range<Int>]
    public var atol: Double, rtol: Double
    /// Rows with no visible key (output 0 and LSE −∞ by definition, certified exactly).
    public var maskedRows: Int = 0
    /// The LSE's verdict when a candidate LSE was given.
    public var lse: LSEReport? = nil

    /// Every entry (and every LSE entry) certifiably passes.
    public var passed: Bool { failing == 0 && undecided == 0 && lse?.passed != false }

    /// The report of the union of disjoint shards (same problem and tolerance).
    /// - Throws: `AttnError.usage` if the tolerances differ or head ranges overlap.
    public static func merge(_ parts: [TieredVerificationReport]) throws -> TieredVerificationReport {
        guard var out = parts.first else { throw AttnError.usage("no reports to merge") }
        for p in parts.dropFirst() {
            guard p.atol == out.atol, p.rtol == out.rtol else {
                throw AttnError.usage(
                    "reports have different tolerances (atol \(p.atol), rtol \(p.rtol) vs \(out.atol), \(out.rtol))")
            }
            for a in p.headRanges {
                for b in out.headRanges where a.overlaps(b) {
                    throw AttnError.usage(
                        "reports overlap: heads \(a.lowerBound):\(a.upperBound) and \(b.lowerBound):\(b.upperBound)")
                }
            }
            if p.maxErrorBound > out.maxErrorBound || (p.maxErrorBound == out.maxErrorBound && p.head < out.head) {
                (out.maxErrorBound, out.batch, out.head, out.row, out.col) = (
                    p.maxErrorBound, p.batch, p.head, p.row, p.col
                )
            }
            out.maxRelErrorBound = max(out.maxRelErrorBound, p.maxRelErrorBound)
            out.maxWidthBound = max(out.maxWidthBound, p.maxWidthBound)
            out.entries += p.entries; out.failing += p.failing; out.undecided += p.undecided
            out.rowsFloat += p.rowsFloat; out.rowsExact += p.rowsExact; out.rowsUndecided += p.rowsUndecided
            out.headRanges += p.headRanges
            out.maskedRows += p.maskedRows
            guard (out.lse == nil) == (p.lse == nil) else { throw AttnError.usage("only some reports certify an LSE") }
            if let l = p.lse { out.lse?.merge(l) }
        }
        out.headRanges.sort { $0.lowerBound < $1.lowerBound }
        return out
    }
}

/// Tiered certification of a candidate (Proofs/float-certified-engine.md, §6):
/// the float engine decides every entry it can; rows with an undecided entry
/// go to the GMP/MPFR engine (`.auto`). Whichever engine decides, every
/// reported bound is certified.
public enum TieredVerification {
    /// Certifies `candidate` entry by entry: the float engine first, GMP/MPFR for the rows it leaves undecided.
    ///
    /// - Parameters:
    ///   - q: the queries (batch and GQA as `AttentionShape`), exact values as Double.
    ///   - k: the keys.
    ///   - v: the values.
    ///   - candidate: the output to certify, Q's leading axes × [n_q, d_v].
    ///   - scale: the softmax scale s (exact rational for a decimal).
    ///   - scoreModel: what attention computes: alignment, window, explicit mask, softcap, bias,
    ///     ALiBi, sinks (every term enclosed). Rows with no visible key are certified exactly
    ///     (output 0, LSE −∞) and counted.
    ///   - options: tolerance, engine, heads, precision, threads and the LSE candidate.
    ///   - progress: called with (rows done, rows total) over the float pass and the exact pass.
    /// - Throws: `AttnError.usage` for a candidate of the wrong shape, bad shapes, a head range
    ///   outside the heads, bad precision, a model term whose shape does not broadcast, a negative or NaN
    ///   atol/rtol.
    public static func run(
        q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, candidate: Tensor<Double>,
        scale: Scale, scoreModel: ScoreModel, options: VerifyOptions,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> TieredVerificationReport {
        try run(
            q: q, k: k, v: v, candidates: [VerifyCandidate(candidate)], scale: scale, scoreModel: scoreModel,
            options: options, progress: progress)[0].verification
    }

    /// Certifies several candidates of one problem against one shared truth: each enclosure is
    /// computed once (float engine, then GMP/MPFR for rows some candidate leaves undecided) and
    /// judged for every candidate, so N candidates cost one verification plus N cheap passes over
    /// the entries. A candidate with a `format` also gets its `AccuracyTally` (the rounding floor).
    /// The LSE candidate of `options` is judged once, in the first candidate's report.
    /// - Throws: as `run(candidate:)`; a candidate of the wrong shape is `AttnError.usage(.candidate, …)`
    ///   whose message starts with "candidate i".
    public static func run(
        q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, candidates: [VerifyCandidate],
        scale: Scale, scoreModel: ScoreModel, options: VerifyOptions,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> [VerifyOutcome] {
        try options.validate()
        let shape = try AttentionShape(q: q, k: k, v: v)
        try scoreModel.validate(for: shape)
        for (i, c) in candidates.enumerated() {
            try checkShape(c.values, shape: shape, q: q, prefix: candidates.count > 1 ? "candidate \(i): " : "")
        }
        let range = options.heads ?? 0..<shape.headsQ
        guard range.lowerBound >= 0, range.upperBound <= shape.headsQ, !range.isEmpty else {
            throw AttnError.usage(
                .heads, "\(range.lowerBound):\(range.upperBound) is outside the \(shape.headsQ) query heads")
        }
        guard CertifiedAttention.precisionRange.contains(options.precision) else {
            throw AttnError.usage(
                .precision, "\(options.precision) bits is outside \(CertifiedAttention.precisionRange)")
        }
        let flatHeads = (0..<shape.batch).flatMap { b in range.map { b * shape.headsQ + $0 } }
        let (nq, dv) = (shape.nq, shape.dv)
        let totalRows = flatHeads.count * nq
        let judge = CandidateJudge(candidates: candidates, shape: shape, v: v, options: options)
        var tallies = candidates.enumerated().map {
            Tally(headsQ: shape.headsQ, lse: $0.offset == 0 ? options.lse : nil, format: $0.element.format)
        }
        var pending: [(head: Int, row: Int)] = []
        if options.engine == .exact || (options.engine == .auto && !BLASAssumptions.hold) {
            pending = flatHeads.flatMap { f in (0..<nq).map { (f, $0) } }
        } else {
            let rows = try floatPass(
                q: q, k: k, v: v, judge: judge, scale: scale, scoreModel: scoreModel,
                heads: flatHeads, options: options, progress: progress)
            for row in rows {
                let undecided = row.contains { $0.anyUndecided }
                if undecided && options.engine == .auto { pending.append((row[0].head, row[0].row)); continue }
                for (t, r) in zip(tallies.indices, row) {
                    tallies[t].add(r, shape: shape)
                    if r.anyUndecided { tallies[t].rowsUndecided += 1 } else { tallies[t].rowsFloat += 1 }
                }
            }
        }
        if !pending.isEmpty {
            let offset = totalRows - pending.count
            var exactProgress: (@Sendable (Int, Int) -> Void)? = nil
            if let progress { exactProgress = { done, _ in progress(offset + done, totalRows) } }
            let enclosures = try CertifiedAttention.encloseRows(
                q: q, k: k, v: v, scale: scale, scoreModel: scoreModel, precision: options.precision, rows: pending,
                threads: options.threads, progress: exactProgress)
            for (req, enc) in zip(pending, enclosures) {
                let row = judge.row(
                    head: req.head, row: req.row, lo: enc.lo, hi: enc.hi, masked: enc.masked,
                    lse: (enc.lse.lo, enc.lse.hi))
                for (t, r) in zip(tallies.indices, row) {
                    tallies[t].add(r, shape: shape)
                    if r.anyUndecided { tallies[t].rowsUndecided += 1 } else { tallies[t].rowsExact += 1 }
                }
            }
        }
        return tallies.map {
            VerifyOutcome(
                verification: $0.report(entries: totalRows * dv, heads: range, options: options), accuracy: $0.accuracy)
        }
    }

    /// - Throws: `AttnError.usage(.candidate, …)` unless `c` has the output's shape.
    static func checkShape(_ c: Tensor<Double>, shape: AttentionShape, q: Tensor<Double>, prefix: String) throws {
        guard c.heads == shape.flatHeads, c.rows == shape.nq, c.cols == shape.dv,
            c.batch == q.batch || c.logicalRank < 4
        else {
            throw AttnError.usage(
                .candidate,
                "\(prefix)shape \(c.shape) does not match the output shape \(Array(q.shape.dropLast()) + [shape.dv])")
        }
    }

    /// The float engine over all rows of `heads`, in parallel row blocks; per row, one verdict per candidate.
    static func floatPass(
        q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, judge: CandidateJudge,
        scale: Scale, scoreModel: ScoreModel, heads: [Int], options: VerifyOptions,
        progress: (@Sendable (Int, Int) -> Void)?
    ) throws -> [[RowVerdict]] {
        guard BLASAssumptions.hold else {  // §0 violated: the float engine decides nothing
            return heads.flatMap { f in
                (0..<q.rows).map { i in
                    judge.candidates.indices.map { n in
                        var r = RowVerdict(head: f, row: i); r.undecided = v.cols; r.maxError = .infinity;
                        r.maxRel = .infinity; if options.lse != nil && n == 0 { r.lseUndecided = true }; return r
                    }
                }
            }
        }
        let engine = try FloatAttentionEngine(q: q, k: k, v: v, scale: scale, scoreModel: scoreModel)
        let (nq, dv) = (engine.shape.nq, engine.shape.dv)
        let block = engine.rowsPerBlock
        let blocksPerHead = (nq + block - 1) / block
        let jobs = heads.count * blocksPerHead
        let workers = max(1, min(options.threads ?? ProcessInfo.processInfo.activeProcessorCount, jobs))
        if workers > 1 { openblas_set_num_threads(1) }  // parallel over row blocks, not inside dgemm
        let next = Atomic<Int>(0), done = Atomic<Int>(0)
        let results = Mutex<[[[RowVerdict]]]>([[[RowVerdict]]](repeating: [], count: jobs))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let ws = engine.makeWorkspace()
            var mid = [Double](repeating: 0, count: block * dv), rad = mid
            var lo = [Double](repeating: 0, count: dv), hi = lo
            while true {
                let job = next.add(1, ordering: .relaxed).oldValue
                if job >= jobs { break }
                let f = heads[job / blocksPerHead], i0 = (job % blocksPerHead) * block
                let count = min(block, nq - i0)
                mid.withUnsafeMutableBufferPointer { mb in
                    rad.withUnsafeMutableBufferPointer { rb in
                        engine.enclose(
                            head: f, rows: i0, count: count, workspace: ws, mid: mb.baseAddress!,
                            radius: rb.baseAddress!)
                    }
                }
                var verdicts: [[RowVerdict]] = []
                for r in 0..<count {
                    for c in 0..<dv {
                        let o = mid[r * dv + c], e = rad[r * dv + c]
                        lo[c] = Directed.subDown(o, e); hi[c] = Directed.add(o, e)
                    }
                    verdicts.append(
                        judge.row(
                            head: f, row: i0 + r, lo: lo, hi: hi, masked: ws.masked[r], lse: (ws.lseLo[r], ws.lseHi[r]))
                    )
                }
                results.withLock { $0[job] = verdicts }
                let finished = done.add(count, ordering: .relaxed).newValue
                progress?(finished, heads.count * nq)
            }
        }
        return results.withLock { $0.flatMap { $0 } }
    }
}

/// A candidate output and, for the kernel accuracy report, the format T it was stored in.
public struct VerifyCandidate: Sendable {
    public var values: Tensor<Double>
    /// T, for the rounding-floor figures (`AccuracyTally`); nil: tolerance verdicts only.
    public var format: FloatFormat?
    public init(_ values: Tensor<Double>, format: FloatFormat? = nil) { (self.values, self.format) = (values, format) }
}

/// One candidate's verdicts: the tolerance report, and the accuracy tally when it has a format.
public struct VerifyOutcome: Sendable {
    public var verification: TieredVerificationReport
    public var accuracy: AccuracyTally?
}

/// Judges one row's enclosures for every candidate (tolerance verdict and accuracy figures); the
/// LSE candidate, when there is one, with the first candidate.
struct CandidateJudge: Sendable {
    let candidates: [VerifyCandidate]
    let shape: AttentionShape
    let atol: Double, rtol: Double
    let lse: LSECandidate?
    /// max_j |v_jc| per (flat KV head, column): the scale of a convex combination of V's rows.
    let vMax: [Double]

    init(candidates: [VerifyCandidate], shape: AttentionShape, v: Tensor<Double>, options: VerifyOptions) {
        (self.candidates, self.shape, atol, rtol, lse) = (candidates, shape, options.atol, options.rtol, options.lse)
        var m = [Double](repeating: 0, count: candidates.contains { $0.format != nil } ? v.heads * v.cols : 0)
        if !m.isEmpty {
            for g in 0..<v.heads {
                for j in 0..<v.rows {
                    for c in 0..<v.cols { m[g * v.cols + c] = max(m[g * v.cols + c], abs(v[g, j, c])) }
                }
            }
        }
        vMax = m
    }

    func row(head f: Int, row i: Int, lo: [Double], hi: [Double], masked: Bool, lse enc: (Double, Double))
        -> [RowVerdict]
    {
        let dv = shape.dv, base = (f * shape.nq + i) * dv, g = shape.kvHead(forQueryHead: f) * dv
        return candidates.enumerated().map { n, cand in
            var r = RowVerdict(head: f, row: i)
            r.masked = masked
            if n == 0, let l = lse {
                r.recordLSE(
                    LSEVerdict(
                        candidate: l.values[f * shape.nq + i], lo: enc.0, hi: enc.1, base: l.base, atol: l.atol))
            }
            var acc = cand.format.map { AccuracyTally(format: $0) }
            cand.values.storage.withUnsafeBufferPointer { cb in
                for c in 0..<dv {
                    let e = EntryVerdict(candidate: cb[base + c], lo: lo[c], hi: hi[c], atol: atol, rtol: rtol)
                    r.record(e, col: c)
                    acc?.record(
                        candidate: cb[base + c], lo: lo[c], hi: hi[c], errorLower: e.errorLowerBound,
                        errorUpper: e.errorBound, vMax: vMax[g + c])
                }
            }
            r.accuracy = acc
            return r
        }
    }
}

struct UnsafeSendable<T>: @unchecked Sendable {  // read-only pointer shared by workers
    let pointer: UnsafePointer<T>
    init(_ p: UnsafePointer<T>) { pointer = p }
}

/// One row's verdicts, summarised.
struct RowVerdict: Sendable {
    let head: Int, row: Int
    var failing = 0, undecided = 0
    var maxError = -1.0, maxCol = 0
    var maxRel = 0.0, maxWidth = 0.0
    /// No visible key; the LSE entry's verdict (when an LSE is certified).
    var masked = false
    var lseError = -1.0, lseFailing = false, lseUndecided = false
    var accuracy: AccuracyTally?
    init(head: Int, row: Int) { self.head = head; self.row = row }
    /// Some output entry or the LSE is undecided (`auto` sends the row to GMP/MPFR).
    var anyUndecided: Bool { undecided > 0 || lseUndecided }
    mutating func recordLSE(_ v: LSEVerdict) {
        lseError = v.errorBound
        lseFailing = v.kind == .fail
        lseUndecided = v.kind == .undecided
    }
    mutating func record(_ v: EntryVerdict, col: Int) {
        switch v.kind {
        case .fail: failing += 1;
        case .undecided: undecided += 1;
        case .pass: break
        }
        if v.errorBound > maxError { maxError = v.errorBound; maxCol = col }
        maxRel = max(maxRel, v.relativeErrorBound)
        maxWidth = max(maxWidth, v.width)
    }
}

/// Accumulates row verdicts into a report.
struct Tally {
    let headsQ: Int
    var best = -1.0, at = (head: 0, row: 0, col: 0)
    var maxRel = 0.0, maxWidth = 0.0, failing = 0, undecided = 0
    var rowsFloat = 0, rowsExact = 0, rowsUndecided = 0, masked = 0
    let lseCandidate: LSECandidate?
    var lseBest = -1.0, lseAt = (head: 0, row: 0), lseFailing = 0, lseUndecided = 0, lseRows = 0
    var accuracy: AccuracyTally?
    init(headsQ: Int, lse: LSECandidate? = nil, format: FloatFormat? = nil) {
        (self.headsQ, lseCandidate, accuracy) = (headsQ, lse, format.map { AccuracyTally(format: $0) })
    }
    mutating func add(_ r: RowVerdict, shape: AttentionShape) {
        if r.masked { masked += 1 }
        if lseCandidate != nil {
            lseRows += 1
            if r.lseFailing { lseFailing += 1 }
            if r.lseUndecided { lseUndecided += 1 }
            if r.lseError > lseBest || (r.lseError == lseBest && (r.head, r.row) < lseAt) {
                lseBest = r.lseError; lseAt = (r.head, r.row)
            }
        }
        if r.maxError > best || (r.maxError == best && (r.head, r.row) < (at.head, at.row)) {
            best = r.maxError; at = (r.head, r.row, r.maxCol)
        }
        maxRel = max(maxRel, r.maxRel); maxWidth = max(maxWidth, r.maxWidth)
        failing += r.failing; undecided += r.undecided
        if let a = r.accuracy { accuracy?.merge(a) }
    }
    func report(entries: Int, heads: Range<Int>, options: VerifyOptions) -> TieredVerificationReport {
        var out = TieredVerificationReport(
            maxErrorBound: max(best, 0), batch: at.head / headsQ, head: at.head % headsQ,
            row: at.row, col: at.col,
            maxRelErrorBound: maxRel, maxWidthBound: maxWidth, entries: entries, failing: failing, undecided: undecided,
            rowsFloat: rowsFloat, rowsExact: rowsExact, rowsUndecided: rowsUndecided,
            headRanges: [heads], atol: options.atol, rtol: options.rtol)
        out.maskedRows = masked
        if let l = lseCandidate {
            out.lse = LSEReport(
                maxErrorBound: max(lseBest, 0), batch: lseAt.head / headsQ, head: lseAt.head % headsQ, row: lseAt.row,
                entries: lseRows, failing: lseFailing, undecided: lseUndecided, atol: l.atol, base: l.base)
        }
        return out
    }
}

extension TieredVerificationReport {
    /// The report's own fields as JSON (AttnKit.docc/Conventions.md: `_bound` keys are certified bounds).
    public var jsonFields: [(String, JSONValue)] {
        let pct = { (k: Int) -> JSONValue in .double(entries == 0 ? 0 : 100 * Double(k) / Double(entries)) }
        return [
            ("passed", .bool(passed)),
            ("max_error_bound", .double(maxErrorBound)),
            ("batch", .int(batch)), ("head", .int(head)), ("row", .int(row)), ("col", .int(col)),
            ("max_rel_error_bound", .double(maxRelErrorBound)),
            ("max_width_bound", .double(maxWidthBound)),
            ("entries", .int(entries)),
            ("failing_entries", .int(failing)), ("failing_percent", pct(failing)),
            ("undecided_entries", .int(undecided)), ("undecided_percent", pct(undecided)),
            ("rows_float", .int(rowsFloat)), ("rows_exact", .int(rowsExact)), ("rows_undecided", .int(rowsUndecided)),
            ("heads", .array(headRanges.map { .string("\($0.lowerBound):\($0.upperBound)") })),
            ("atol", .double(atol)), ("rtol", .double(rtol)),
            ("tolerance", rtol == 0 ? .double(atol) : .null),
            ("masked_rows", .int(maskedRows)),
        ] + (lse.map { [("lse", JSONValue.object($0.jsonFields))] } ?? [])
    }

    /// Parses a report written by `jsonFields` (e.g. one shard of a Slurm array).
    /// - Throws: `AttnError.usage` naming the missing or malformed key.
    public init(json text: String) throws {
        guard let data = text.data(using: .utf8),
            let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else {
            throw AttnError.usage("not a JSON object")
        }
        func number(_ key: String) throws -> Double {
            // The digits as written: Swift's Double(String) rounds correctly, so a bound read back is the bound written.
            if let r = text.range(of: "\"\(key)\":") {
                let digits = text[r.upperBound...].prefix { "0123456789+-.eE".contains($0) }
                if !digits.isEmpty, let x = Double(digits) { return x }
            }
            if let s = o[key] as? String, let x = Double(s) { return x }  // "inf"
            throw AttnError.usage("missing or malformed key '\(key)'")
        }
        func int(_ key: String) throws -> Int {
            guard let x = o[key] as? NSNumber, x.doubleValue == x.doubleValue.rounded() else {
                throw AttnError.usage("missing or malformed key '\(key)'")
            }
            return x.intValue
        }
        guard let heads = o["heads"] as? [String] else { throw AttnError.usage("missing or malformed key 'heads'") }
        headRanges = try heads.map { s in
            let p = s.split(separator: ":").compactMap { Int($0) }
            guard p.count == 2, p[0] < p[1] else { throw AttnError.usage("malformed head range '\(s)'") }
            return p[0]..<p[1]
        }
        maxErrorBound = try number("max_error_bound"); maxRelErrorBound = try number("max_rel_error_bound")
        maxWidthBound = try number("max_width_bound")
        batch = try int("batch"); head = try int("head"); row = try int("row"); col = try int("col")
        entries = try int("entries"); failing = try int("failing_entries"); undecided = try int("undecided_entries")
        rowsFloat = try int("rows_float"); rowsExact = try int("rows_exact"); rowsUndecided = try int("rows_undecided")
        atol = try number("atol"); rtol = try number("rtol")
        maskedRows = (o["masked_rows"] as? NSNumber)?.intValue ?? 0  // absent in reports before issue 20
        if let l = o["lse"] as? [String: Any] {
            let lseText = text.range(of: "\"lse\":").map { text[$0.upperBound...] } ?? ""
            func value(_ key: String) throws -> Double {
                if let r = lseText.range(of: "\"\(key)\":") {  // the digits as written, as `number` reads them
                    let digits = lseText[r.upperBound...].prefix { "0123456789+-.eE".contains($0) }
                    if !digits.isEmpty, let x = Double(digits) { return x }
                }
                if let s = l[key] as? String, let x = Double(s) { return x }
                throw AttnError.usage("missing or malformed key 'lse.\(key)'")
            }
            lse = LSEReport(
                maxErrorBound: try value("max_error_bound"), batch: Int(try value("batch")),
                head: Int(try value("head")),
                row: Int(try value("row")), entries: Int(try value("entries")), failing: Int(try value("failing")),
                undecided: Int(try value("undecided")), atol: try value("atol"),
                base: LSEBase(rawValue: l["base"] as? String ?? "e") ?? .e)
        }
    }
}
