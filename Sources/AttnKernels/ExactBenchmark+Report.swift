import AttnCore

extension ExactBenchmark {
    /// `bench exact`'s result with its two printed forms (JSON and the table).
    public struct Report: Sendable {
        /// sgemm 2048³ GFLOP/s, interleaved with the cases.
        public let sgemm: Double
        public let points: [Point]
        public let threads: Int, runs: Int, queryTile: Int
        public let causal: Bool, double: Bool
        public let isa: KernelISA

        public init(
            sgemm: Double, points: [Point], threads: Int, runs: Int, queryTile: Int, causal: Bool, double: Bool,
            isa: KernelISA
        ) {
            (self.sgemm, self.points, self.threads, self.runs, self.queryTile) = (
                sgemm, points, threads, runs, queryTile
            )
            (self.causal, self.double, self.isa) = (causal, double, isa)
        }

        var precision: String { double ? "float64" : "float32" }

        public var json: JSONValue {
            let rows: [JSONValue] = points.map { p in
                .object([
                    ("n", .int(p.n)), ("n_q", .int(p.queries)), ("d", .int(p.d)), ("gflops", .double(p.gflops)),
                    ("ratio_to_sgemm", .double(p.gflops / sgemm)), ("seconds", .double(p.seconds)),
                ])
            }
            return .object([
                ("blas", BLASInfo.current.json), ("benchmark", "exact"), ("threads", .int(threads)),
                ("runs", .int(runs)), ("causal", .bool(causal)), ("precision", .string(precision)),
                ("backward", .bool(points.first?.backward ?? false)),
                ("isa", .string(isa.resolved.description)), ("sgemm_gflops", .double(sgemm)),
                ("results", .array(rows)),
            ])
        }

        public var text: String {
            let backward = points.first?.backward ?? false
            var lines = [
                "sgemm 2048³ (\(threads) threads): \(TextFormat.fixed(sgemm)) GFLOP/s, median of \(runs) interleaved runs",
                backward
                    ? "fused backward (FusedBackward: row statistics, then \(FusedBackward.queryBlock)×\(FusedBackward.keyBlock) "
                        + "tiles of five gemms; rates count 2.5× the forward's flops), \(precision), one head, scale 1/√d"
                        + (causal ? ", causal" : "")
                    : "fused kernel (\(isa.resolved)): \(queryTile) query rows per job, \(FastAttention.keyTile)-key tiles, "
                        + "\(precision), one head, scale 1/√d\(causal ? ", causal (rates count half the flops)" : "")",
                "     n    n_q    d   kernel GFLOP/s   ratio to sgemm   median s",
            ]
            for p in points {
                lines.append(
                    String(
                        format: "%6d %6d %4d %16.1f %16.3f %10.5f", p.n, p.queries, p.d, p.gflops,
                        p.gflops / sgemm, p.seconds))
            }
            return lines.joined(separator: "\n")
        }
    }
}
