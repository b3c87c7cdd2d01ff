import AttnCore

/// The base a kernel writes its row log-sum-exp in: FlashAttention and cuDNN use the natural log,
/// FlashInfer base 2 (AttnKit.docc/Conventions.md; flashinfer #2113).
public enum LSEBase: String, Sendable, CaseIterable {
    case e
    case two = "2"
}

/// A candidate row log-sum-exp to certify beside the output: LSE_i = log Σ_visible exp(score_ij)
/// (+ exp σ_h with sinks), one value per (batch, head, row), in `base`.
public struct LSECandidate: Sendable {
    /// The values in [batch, heads_q, n_q] order (flat query head f = b·heads_q + h, then row).
    public let values: [Double]
    public var base: LSEBase
    /// Pass iff |candidate − LSE| ≤ atol (in the candidate's base).
    public var atol: Double

    /// Accepts the shapes kernels write: [batch, heads, n_q], [heads, n_q] (batch 1), [n_q] (one
    /// head), each optionally with a trailing 1 (cuDNN's stats).
    /// - Throws: `AttnError.usage(.lseCandidate, …)` naming the shape that matches none of them.
    public init(_ t: Tensor<Double>, shape: AttentionShape, base: LSEBase = .e, atol: Double) throws {
        let (b, h, n) = (shape.batch, shape.headsQ, shape.nq)
        var dims = t.shape
        var accepted: [[Int]] = [[b, h, n]]
        if b == 1 { accepted.append([h, n]) }
        if b == 1 && h == 1 { accepted.append([n]) }
        if !accepted.contains(dims), dims.last == 1, accepted.contains(Array(dims.dropLast())) { dims.removeLast() }
        guard accepted.contains(dims) else {
            let names = accepted.map { $0.description } + accepted.map { ($0 + [1]).description }
            throw AttnError.usage(
                .lseCandidate, "shape \(t.shape) is none of \(names.joined(separator: ", ")) (batch, heads, n_q)")
        }
        values = t.storage
        self.base = base
        self.atol = atol
    }
}

/// The certified verdict on a candidate LSE, reported as the output's is.
public struct LSEReport: Sendable, Equatable {
    /// A certified upper bound on max |candidate − LSE| over the rows checked (in the candidate's base).
    public var maxErrorBound: Double
    /// Where it is attained.
    public var batch: Int, head: Int, row: Int
    /// Rows checked, rows that certifiably fail `atol`, rows left undecided.
    public var entries: Int, failing: Int, undecided: Int
    public var atol: Double
    public var base: LSEBase

    public var passed: Bool { failing == 0 && undecided == 0 }

    /// The `lse` object of `verify --json`.
    public var jsonFields: [(String, JSONValue)] {
        [
            ("max_error_bound", .double(maxErrorBound)), ("batch", .int(batch)), ("head", .int(head)),
            ("row", .int(row)), ("failing", .int(failing)), ("undecided", .int(undecided)),
            ("entries", .int(entries)), ("atol", .double(atol)), ("base", .string(base.rawValue)),
        ]
    }

    /// Merges the reports of disjoint head shards.
    mutating func merge(_ p: LSEReport) {
        if p.maxErrorBound > maxErrorBound || (p.maxErrorBound == maxErrorBound && (p.batch, p.head) < (batch, head)) {
            (maxErrorBound, batch, head, row) = (p.maxErrorBound, p.batch, p.head, p.row)
        }
        entries += p.entries; failing += p.failing; undecided += p.undecided
    }
}

/// The verdict on one LSE entry (Proofs/certified-lse.md §3).
struct LSEVerdict {
    /// ln 2 ∈ [ln2Lo, ln2Hi], adjacent doubles (checked with MPFR in `LSEVerificationTests`).
    static let ln2Lo = 0x1.62e42fefa39efp-1, ln2Hi = 0x1.62e42fefa39fp-1

    let kind: EntryVerdict.Kind
    let errorBound: Double

    /// - Parameters: lo ≤ LSE ≤ hi in natural log (both −∞ for a row with no visible key).
    init(candidate c: Double, lo: Double, hi: Double, base: LSEBase, atol: Double) {
        if lo == -.infinity && hi == -.infinity {  // no visible key: LSE = −∞ exactly
            (kind, errorBound) = c == -.infinity ? (.pass, 0) : (.fail, .infinity)
            return
        }
        var (l, u) = (lo, hi)
        if base == .two {  // LSE/ln 2, rounded outward
            l = l >= 0 ? Directed.divDown(l, Self.ln2Hi) : Directed.divDown(l, Self.ln2Lo)
            u = u >= 0 ? Directed.div(u, Self.ln2Lo) : Directed.div(u, Self.ln2Hi)
        }
        let v = EntryVerdict(candidate: c, lo: l, hi: u, atol: atol, rtol: 0)
        (kind, errorBound) = (v.kind, v.errorBound)
    }
}
