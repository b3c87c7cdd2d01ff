import AttnCore

/// The `demo` run: the fast Float32 kernel against the Float64 reference on seeded uniform
/// inputs, with the measured error beside the a-priori bound (`ForwardErrorBound.fastAttention`).
///
/// A bound that fails to hold is a failed check (`RunReport.failure`, exit 1), never only a word
/// in the text. Checked by `DemoTests`.
public enum Demo {
    /// The inputs: n queries and keys of dimension d, entries uniform in [−B, B] from `seed`.
    public struct Parameters: Sendable, Equatable {
        public var n = 1024, d = 64
        public var B = 1.0
        public var scale = Scale.standard
        public var seed: UInt64 = 1
        /// Draw the inputs from an edge family of issue 23 instead (n queries and keys, d, the family's scale;
        /// B and scale are then ignored).
        public var family: EdgeFamily? = nil

        public init() {}
        public init(n: Int, d: Int, B: Double, scale: Scale, seed: UInt64, family: EdgeFamily?) {
            (self.n, self.d, self.B, self.scale, self.seed, self.family) = (n, d, B, scale, seed, family)
        }

        /// Throws `AttnError.usage` naming the parameter out of range.
        public func validate() throws {
            guard (1...8192).contains(n) else { throw AttnError.usage(.n, "must be in 1...8192") }
            guard (1...512).contains(d) else { throw AttnError.usage(.d, "must be in 1...512") }
            guard B.isFinite, B >= 0 else { throw AttnError.usage(.B, "must be finite and ≥ 0") }
        }
    }

    /// Runs both kernels and reports times, the error and the bound.
    public static func run(_ p: Parameters) throws -> RunReport {
        try p.validate()
        var (q, k, v) = InputDistribution.uniform.attentionInputs(
            queries: p.n, keys: p.n, d: p.d, bound: p.B, seed: p.seed, as: Float.self)
        var scale = p.scale
        if let f = p.family {
            let edge = EdgeCase(family: f, nq: p.n, nk: p.n, d: p.d, dv: p.d, seed: p.seed)
            (q, k, v) = edge.tensors(Float.self)
            scale = edge.scale(Float.self)
        }
        var fast = Tensor<Float>(rows: 0, cols: 0)
        let tFast = try Timing.seconds { fast = try FastAttention.compute(q: q, k: k, v: v, scale: scale) }
        var ref = Tensor<Double>(rows: 0, cols: 0)
        let tRef = try Timing.seconds { ref = try ReferenceAttention.compute(q: q, k: k, v: v, scale: scale) }
        let err = ErrorMetrics.maxAbsDiff(fast, ref)
        // The yardstick errs too: |fast − truth| ≤ bound_fast, |ref − truth| ≤ bound_ref, so |fast − ref| ≤ their sum.
        let bound =
            (ForwardErrorBound.fastAttention(q: q, k: k, v: v, scale: scale).max() ?? 0)
            + (ForwardErrorBound.reference(q: q, k: k, v: v, scale: scale).max() ?? 0)
        let fixed = { (x: Double) in TextFormat.fixed(x, 4) }
        let text = [
            "attnbound demo: n = \(p.n), d = \(p.d), \(p.family.map { "family \($0)" } ?? "B = \(p.B)"), scale = \(scale), seed = \(p.seed)",
            "  fast Float32 kernel     \(fixed(tFast)) s",
            "  reference Float64       \(fixed(tRef)) s",
            "  max |fast − reference|  \(err)",
            "  a-priori bound          \(bound)  (\(err <= bound ? "holds" : "VIOLATED"))",
        ]
        let parameters: [(String, JSONValue)] = [
            ("n", .int(p.n)), ("d", .int(p.d)), ("B", .double(p.B)), ("scale", .string(scale.description)),
            ("family", p.family.map { JSONValue.string($0.rawValue) } ?? .null),
        ]
        let summary: [(String, JSONValue)] = [
            ("fast_seconds", .double(tFast)), ("reference_seconds", .double(tRef)),
            ("max_abs_error", .double(err)), ("max_error_bound", .double(bound)),
        ]
        let failure =
            err <= bound
            ? nil : AttnError.checkFailed("max |fast − reference| \(err) exceeds the a-priori bound \(bound)")
        return RunReport(
            command: "demo", parameters: parameters, seed: p.seed, summary: summary, text: text, failure: failure)
    }
}
