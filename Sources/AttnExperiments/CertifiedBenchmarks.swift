import AttnCertified
import AttnCore
import AttnKernels
import Foundation

/// `bench certified`: certified attention beside the Float64 reference kernel on the same
/// seeded inputs, in the same run (medians, `Timing.median`). Speed is measured here, never in tests.
public enum CertifiedBenchmark {
    public struct Setup: Sendable {
        public var n = 256, d = 16, precision = 256, threads = 1, runs = 5
        public var scale = Scale.standard
        public var seed: UInt64 = 42
        public init() {}

        /// - Throws: `AttnError.usage` naming the size or precision out of range.
        public func validate() throws {
            try Parameter.n.require(n, in: 1...4096)
            try Parameter.d.require(d, in: 1...1024)
            try Parameter.precision.require(precision, in: CertifiedAttention.precisionRange)
        }
    }

    public struct Report: Sendable {
        public let setup: Setup
        public let seconds: Double, secondsOneThread: Double, referenceSeconds: Double
        /// The widest certified enclosure.
        public let maxWidth: Double
        public var log2MaxWidth: Double { maxWidth > 0 ? Foundation.log2(maxWidth) : -.infinity }
        /// The goal for the defaults on a 2-core machine.
        public static let targetSeconds = 0.1
    }

    /// One head, Float32 inputs uniform in [−1, 1] (`InputDistribution.attentionInputs`).
    public static func run(_ s: Setup) throws -> Report {
        try s.validate()
        let (q, k, v) = InputDistribution.uniform.attentionInputs(
            queries: s.n, keys: s.n, d: s.d, seed: s.seed,
            as: Float.self)
        var width = 0.0
        let certified = try Timing.median(runs: s.runs) {
            width = try CertifiedAttention.compute(
                q: q, k: k, v: v, scale: s.scale, precision: s.precision,
                threads: s.threads
            ).maxWidth
        }
        let single = try Timing.median(runs: s.runs) {
            _ = try CertifiedAttention.compute(q: q, k: k, v: v, scale: s.scale, precision: s.precision, threads: 1)
        }
        let reference = try Timing.median(runs: s.runs) {
            _ = try ReferenceAttention.compute(q: q, k: k, v: v, scale: s.scale)
        }
        return Report(
            setup: s, seconds: certified, secondsOneThread: single, referenceSeconds: reference,
            maxWidth: width)
    }
}

extension CertifiedBenchmark.Report {
    /// The one report shape (`RunReport`): the text table, or the JSON object.
    public var runReport: RunReport {
        RunReport(command: "bench certified", seed: setup.seed, text: [text], json: json)
    }

    public var json: JSONValue {
        let s = setup, target = Self.targetSeconds
        return .object([
            ("blas", BLASInfo.current.json), ("benchmark", "certified"), ("n", .int(s.n)), ("d", .int(s.d)),
            ("precision_bits", .int(s.precision)), ("scale", .string(s.scale.description)),
            ("threads", .int(s.threads)), ("runs", .int(s.runs)), ("seed", .int(Int(truncatingIfNeeded: s.seed))),
            ("seconds", .double(seconds)), ("seconds_one_thread", .double(secondsOneThread)),
            ("reference_seconds", .double(referenceSeconds)),
            ("ratio_to_reference", .double(seconds / referenceSeconds)),
            ("max_width_bound", .double(maxWidth)), ("log2_max_width_bound", .double(log2MaxWidth)),
            ("target_seconds", .double(target)), ("meets_target", .bool(seconds <= target)),
        ])
    }

    public var text: String {
        let s = setup
        return [
            "certified attention, n = \(s.n), d = \(s.d), \(s.precision) bits, scale \(s.scale), one head, seed \(s.seed)",
            "  MPFR \(MPFRLibrary.version), median of \(s.runs) runs",
            String(
                format: "  certified (%d threads): %.4f s   (target ≤ 0.1 s: %@)", s.threads, seconds,
                seconds <= Self.targetSeconds ? "met" : "missed"),
            String(format: "  certified (1 thread):   %.4f s", secondsOneThread),
            String(
                format: "  Float64 reference:      %.6f s   ratio certified/reference %.0f×", referenceSeconds,
                seconds / referenceSeconds),
            String(format: "  widest enclosure:       %.3e = 2^%.1f", maxWidth, log2MaxWidth),
        ].joined(separator: "\n")
    }
}
