import ArgumentParser
import AttnCertified
import AttnCore
import Foundation

/// `attnbound verify`: certifies an attention output computed anywhere
/// (PyTorch, JAX, a CUDA kernel, our fast kernel) against the certified
/// reference. Exit 0 if the certified bound on max |candidate − truth| is
/// ≤ --tolerance, 1 if not, 2 on bad input (including a candidate of the wrong shape).
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Certify a candidate attention output: a certified bound on max |candidate − truth|.",
        discussion: """
            Inputs are read exactly (float32 or float64). The truth is enclosed entry by entry with GMP/MPFR \
            (see Proofs/certified-enclosure.md); the printed bound is ≥ the candidate's true maximum error.
            """)

    @OptionGroup var inputs: AttentionInputs

    @Option(help: "Candidate output .npy (float32 or float64), shape [n_q, d_v] or [heads, n_q, d_v].")
    var candidate: String

    @Option(help: "Precision of the certified enclosures, in bits.")
    var precision: Int = 256

    @Option(help: "Pass if the certified bound on max |candidate − truth| is at most this.")
    var tolerance: Double = 1e-6

    @OptionGroup var threadsOption: ThreadsOption
    var threads: Int { threadsOption.count }

    @Flag(help: "Print one JSON object on one line instead of text.")
    var json = false

    func validate() throws {
        guard CertifiedAttention.precisionRange.contains(precision) else {
            throw ValidationError("--precision must be in \(CertifiedAttention.precisionRange)")
        }
        guard tolerance.isFinite, tolerance >= 0 else { throw ValidationError("--tolerance must be finite and ≥ 0") }
    }

    func run() throws {
        let (q, k, v) = try inputs.load(as: Double.self)  // float32 widens exactly
        let cand: Tensor<Double> = try Npy.read(candidate)
        guard cand.heads == q.heads, cand.rows == q.rows, cand.cols == v.cols else {
            throw AttnError.usage("--candidate \(candidate): shape \(cand.shape) does not match the output shape "
                                  + "\(Array(q.shape.dropLast()) + [v.cols])")
        }
        let enclosure = try CertifiedAttention.compute(q: q, k: k, v: v, scale: inputs.scale, causal: inputs.causal,
                                                       precision: precision, threads: threads,
                                                       progress: ProgressNote.forScores(q.heads * q.rows * k.rows))
        let report = try enclosure.errorBound(of: cand)
        let passed = report.passes(tolerance: tolerance)
        if json {
            print(JSONValue.object([
                ("max_error_bound", .double(report.maxErrorBound)),
                ("head", .int(report.head)), ("row", .int(report.row)), ("col", .int(report.col)),
                ("tolerance", .double(tolerance)), ("passed", .bool(passed)),
                ("precision_bits", .int(precision)), ("scale", .string(inputs.scale.description)),
                ("causal", .bool(inputs.causal)), ("max_width_bound", .double(report.maxWidth)),
                ("candidate", .string(candidate)),
            ]).serialized())
        } else {
            print("certified max |candidate − truth| ≤ \(formatBound(report.maxErrorBound)) "
                  + "at (head \(report.head), row \(report.row), col \(report.col))")
            print("tolerance \(formatShortest(tolerance)): \(passed ? "PASS" : "FAIL")  "
                  + "(\(precision)-bit enclosures, widest \(formatBound(report.maxWidth)), scale \(inputs.scale))")
        }
        if !passed { throw ExitCode(1) }
    }
}

/// A bound printed so that it still bounds: 3 significant digits, rounded up.
func formatBound(_ x: Double) -> String {
    guard x.isFinite, x > 0 else { return formatShortest(x) }
    let exponent = Int(floor(log10(x)))
    let unit = pow(10.0, Double(exponent - 2))
    let m = (x / unit).rounded(.down) + 1  // the +1 dwarfs any rounding in x/unit and in the printing
    return String(format: "%.2fe%+03d", m / 100, exponent)
}
