import ArgumentParser
import AttnCore
import AttnExperiments
import AttnPoly
import Foundation

/// `attnbound approx`: one equal-rank approximation of attention, its
/// a-priori bound (poly) and its measured error against the exact kernel.
struct ApproxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approx",
        abstract: "Approximate attention (poly, svd, performer, nystrom) with its bound and measured error.",
        discussion: """
            --eps E: poly uses the smallest certified degree for relative error E of eˣ on [−R, R] \
            (R = s·max‖q‖·max‖k‖ from the data); the other methods use the same rank C(g + d, d). \
            --rank R: every method uses rank ≤ R (poly: the largest g with C(g + d, d) ≤ R). \
            The default scale here is 'paper' (s = 1/d, Alman–Song). Computation and output are Float64. \
            The error against exact attention is measured on every row while n_q·n_k ≤ 2048², else on 64 \
            seeded rows per head (--error-rows all|K); the JSON lists the rows measured. \
            Ã's max relative entry error when n_q·n_k ≤ 2048².
            """)

    @Option(help: "Method: poly (Alman–Song, certified bound), svd (truncated SVD of A, small n), performer (FAVOR+), nystrom.")
    var method: ApproxMethod

    @Option(help: "Rank budget r (exclusive with --eps).")
    var rank: Int?

    @Option(help: "Target relative error ε of the polynomial (exclusive with --rank).")
    var eps: Double?

    @Option(help: "Polynomial family for poly (and the rank under --eps): taylor, chebyshev (default), interpolant or shifted.")
    var family: ExpFamily = .chebyshev

    @OptionGroup var inputs: PolyInputs

    @Option(help: "Seed of the random features (performer) and landmarks (nystrom).")
    var seed: UInt64 = 0

    @Option(help: "Rows the error is measured on: all, or K seeded rows per head (default: all while n_q·n_k ≤ 2048², else 64).")
    var errorRows: String?

    @Option(name: [.customLong("out"), .short], help: "Output .npy path for T (Float64; written to a temp file, then renamed).")
    var out: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard (rank == nil) != (eps == nil) else { throw ValidationError("give exactly one of --rank and --eps") }
        if let rank { guard rank >= 1 else { throw ValidationError("--rank must be ≥ 1") } }
        if let eps { guard eps.isFinite, eps > 0 else { throw ValidationError("--eps must be positive and finite") } }
        if let errorRows, ErrorRows(parsing: errorRows) == nil {
            throw ValidationError("--error-rows must be 'all' or a positive count, got '\(errorRows)'")
        }
        try validateOutputPath(out, flag: "--out")
    }

    func run() throws {
        let (q, k, v) = try inputs.load()
        let request: RankRequest = rank.map { .rank($0) } ?? .epsilon(eps!)
        let options = ApproximationOptions(method: method, request: request, family: family, seed: seed)
        let report = try ApproxReport(q: q, k: k, v: v, scale: inputs.scale, options: options,
                                      rows: errorRows.flatMap(ErrorRows.init(parsing:)))
        try Npy.write(report.result.output.withLeadingAxes(of: q), to: out)
        print(json ? report.json(out: out).serialized() : report.text(out: out))
    }
}
