import AttnCore
import Foundation

/// Tiered certification of a kernel's gradients, as `TieredVerification` certifies its output
/// (Proofs/backward-error.md, "The certified engines"): the float engine encloses every entry of
/// dQ, dK and dV; with `.auto`, the rows of each gradient it leaves undecided go to the
/// GMP/MPFR engine. Whichever engine decides, every reported bound is certified.
public enum GradientVerification {
    /// Certifies each candidate gradient entry by entry.
    ///
    /// - Parameters:
    ///   - q: the queries (batch and GQA as `AttentionShape`), exact values as Double.
    ///   - k: the keys.
    ///   - v: the values.
    ///   - dO: the upstream gradient, the output's shape.
    ///   - candidates: the gradients to certify (any subset): dq in Q's shape, dk in K's, dv in V's.
    ///   - scale: the softmax scale s (exact rational for a decimal).
    ///   - scoreModel: the mask (windows of either alignment, explicit masks); score terms are refused.
    ///   - options: tolerance, engine, precision and threads (`heads` must be nil: every head is certified).
    /// - Returns: one report per candidate; dK and dV locations count KV heads.
    /// - Throws: `AttnError.usage` naming the input at fault (`.dO`, `.dqCandidate`, `.dkCandidate`,
    ///   `.dvCandidate` for a wrong shape or NaN/Inf in dO), bad shapes, a score term (its parameter), `.heads` if given.
    public static func run(
        q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, dO: Tensor<Double>,
        candidates: [GradientName: Tensor<Double>], scale: Scale, scoreModel: ScoreModel, options: VerifyOptions,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> [GradientName: TieredVerificationReport] {
        let shape = try AttentionShape(q: q, k: k, v: v)
        let mask = try GradientMask(scoreModel, shape)
        guard options.heads == nil else {
            throw AttnError.usage(.heads, "gradients are certified for every head; drop the head range")
        }
        guard dO.heads == shape.flatHeads, dO.rows == shape.nq, dO.cols == shape.dv else {
            throw AttnError.usage(
                .dO, "shape \(dO.shape) does not match the output shape \(Array(q.shape.dropLast()) + [shape.dv])")
        }
        guard dO.isFinite else { throw AttnError.usage(.dO, "contains NaN or Inf") }
        guard CertifiedAttention.precisionRange.contains(options.precision) else {
            throw AttnError.usage(
                .precision, "\(options.precision) bits is outside \(CertifiedAttention.precisionRange)")
        }
        let like: [GradientName: (Tensor<Double>, Parameter)] = [
            .dq: (q, .dqCandidate), .dk: (k, .dkCandidate), .dv: (v, .dvCandidate),
        ]
        for (name, c) in candidates {
            let (t, p) = like[name]!
            guard c.heads == t.heads, c.rows == t.rows, c.cols == t.cols else {
                throw AttnError.usage(p, "shape \(c.shape) does not match \(name.rawValue)'s shape \(t.shape)")
            }
        }
        if candidates.isEmpty { return [:] }
        var verdicts: [GradientName: [RowVerdict]] = [:]
        var pending: [GradientName: [MPFRGradientEngine.Row]] = [:]
        let total = candidates.values.reduce(0) { $0 + $1.heads * $1.rows }
        if options.engine != .exact {
            let enc = try FloatGradientEngine.enclose(
                q: q, k: k, v: v, dO: dO, shape: shape, scale: scale, mask: mask, threads: options.threads)
            for (name, c) in candidates {
                let (lo, hi) = (enc.lo[name]!, enc.hi[name]!)
                var rows: [RowVerdict] = []
                for h in 0..<c.heads {
                    for i in 0..<c.rows {
                        var r = RowVerdict(head: h, row: i)
                        let base = c.offset(head: h, row: i)
                        for col in 0..<c.cols {
                            r.record(
                                EntryVerdict(
                                    candidate: c.storage[base + col], lo: lo.storage[base + col],
                                    hi: hi.storage[base + col], atol: options.atol, rtol: options.rtol), col: col)
                        }
                        if r.undecided > 0 && options.engine == .auto {
                            pending[name, default: []].append(MPFRGradientEngine.Row(head: h, row: i))
                        } else {
                            rows.append(r)
                        }
                    }
                }
                verdicts[name] = rows
            }
            progress?(total - pending.values.reduce(0) { $0 + $1.count }, total)
        } else {
            for (name, c) in candidates {
                verdicts[name] = []
                pending[name] = (0..<c.heads).flatMap { h in
                    (0..<c.rows).map { MPFRGradientEngine.Row(head: h, row: $0) }
                }
            }
        }
        var exactRows = Set<String>()
        if !pending.isEmpty {
            let enc = try MPFRGradientEngine.enclose(
                q: q, k: k, v: v, dO: dO, shape: shape, scale: scale, mask: mask, precision: options.precision,
                rows: pending)
            for (name, rows) in pending {
                let c = candidates[name]!
                for (req, e) in zip(rows, enc[name]!) {
                    var r = RowVerdict(head: req.head, row: req.row)
                    let base = c.offset(head: req.head, row: req.row)
                    for col in 0..<c.cols {
                        r.record(
                            EntryVerdict(
                                candidate: c.storage[base + col], lo: e.lo[col], hi: e.hi[col], atol: options.atol,
                                rtol: options.rtol), col: col)
                    }
                    verdicts[name, default: []].append(r)
                    exactRows.insert("\(name.rawValue) \(req.head) \(req.row)")
                }
            }
            progress?(total, total)
        }
        var reports: [GradientName: TieredVerificationReport] = [:]
        for (name, rows) in verdicts {
            let c = candidates[name]!
            let headsPerBatch = name == .dq ? shape.headsQ : shape.headsKV
            var tally = Tally(headsQ: headsPerBatch)
            for r in rows {
                tally.add(r, shape: shape)
                if r.undecided > 0 {
                    tally.rowsUndecided += 1
                } else if exactRows.contains("\(name.rawValue) \(r.head) \(r.row)") {
                    tally.rowsExact += 1
                } else {
                    tally.rowsFloat += 1
                }
            }
            reports[name] = tally.report(entries: c.count, heads: 0..<headsPerBatch, options: options)
        }
        return reports
    }
}

extension TieredVerificationReport {
    /// The gradient's entry of `verify --json`'s `gradients` object (AttnKit.docc/Conventions.md).
    public var gradientJSON: JSONValue {
        .object([
            ("passed", .bool(passed)), ("max_error_bound", .double(maxErrorBound)), ("batch", .int(batch)),
            ("head", .int(head)), ("row", .int(row)), ("col", .int(col)), ("entries", .int(entries)),
            ("failing", .int(failing)), ("undecided", .int(undecided)),
            ("rows_float", .int(rowsFloat)), ("rows_exact", .int(rowsExact)),
        ])
    }
}
