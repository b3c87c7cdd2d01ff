import AttnCore

extension ExactBenchmark {
    /// `bench exact`'s result with its two printed forms (JSON and the table).
    public struct Report: Sendable {
        /// sgemm 2048³ GFLOP/s, interleaved with the cases.
        public let sgemm: Double
        /// Decode: the copy bandwidth (GB/s, read + written), interleaved with the cases.
        public let copyGBs: Double?
        public let points: [Point]
        public let threads: Int, runs: Int, queryTile: Int
        public let scoreModel: ScoreModel, double: Bool
        public let isa: KernelISA

        public init(
            sgemm: Double, copyGBs: Double? = nil, points: [Point], threads: Int, runs: Int, queryTile: Int,
            scoreModel: ScoreModel, double: Bool, isa: KernelISA
        ) {
            (self.sgemm, self.copyGBs, self.points, self.threads, self.runs) = (sgemm, copyGBs, points, threads, runs)
            self.queryTile = queryTile
            (self.scoreModel, self.double, self.isa) = (scoreModel, double, isa)
        }

        var precision: String { double ? "float64" : "float32" }

        /// The score model in words: `causal` (with its alignment), `window L,R`, and the terms it has.
        var model: String {
            let m = scoreModel.mask
            var parts: [String] = []
            if let w = m.window { parts.append(w == .causal ? "causal" : "window \(w)") }
            if m.window != nil && m.alignment != .bottomRight { parts.append(m.alignment.rawValue) }
            if m.explicit != nil { parts.append("explicit mask") }
            if let c = scoreModel.softcap { parts.append("softcap \(c)") }
            if scoreModel.bias != nil { parts.append("bias") }
            if scoreModel.alibiSlopes != nil { parts.append("ALiBi") }
            if scoreModel.sinks != nil { parts.append("sinks") }
            return parts.isEmpty ? "plain" : parts.joined(separator: ", ")
        }

        public var json: JSONValue {
            let rows: [JSONValue] = points.map { p in
                .object(
                    [
                        ("n", .int(p.n)), ("n_q", .int(p.queries)), ("d", .int(p.d)), ("gflops", .double(p.gflops)),
                        ("ratio_to_sgemm", .double(p.gflops / sgemm)), ("seconds", .double(p.seconds)),
                        ("visible_fraction", .double(p.visibleFraction)),
                    ] + (copyGBs.map { [("gbs", .double(p.gbs)), ("ratio_to_copy", .double(p.gbs / $0))] } ?? []))
            }
            return .object(
                [
                    ("blas", BLASInfo.current.json), ("benchmark", "exact"), ("threads", .int(threads)),
                    ("runs", .int(runs)), ("causal", .bool(scoreModel.mask.isCausal)),
                    ("score_model", .string(model)), ("precision", .string(precision)),
                    ("backward", .bool(points.first?.backward ?? false)),
                    ("isa", .string(isa.resolved.description)), ("sgemm_gflops", .double(sgemm)),
                ] + (copyGBs.map { [("copy_gbs", .double($0))] } ?? []) + [("results", .array(rows))])
        }

        public var text: String {
            let backward = points.first?.backward ?? false
            var lines = [
                "sgemm 2048³ (\(threads) threads): \(TextFormat.fixed(sgemm)) GFLOP/s, median of \(runs) interleaved runs",
                backward
                    ? "fused backward (FusedBackward: row statistics, then \(FusedBackward.queryBlock)×\(FusedBackward.keyBlock) "
                        + "tiles of five gemms; rates count 2.5× the forward's flops), \(precision), one head, scale 1/√d"
                        + (scoreModel == .plain ? "" : ", \(model)")
                    : "fused kernel (\(isa.resolved)): \(queryTile) query rows per job, \(FastAttention.keyTile)-key tiles, "
                        + "\(precision), one head, scale 1/√d"
                        + (scoreModel == .plain ? "" : ", \(model) (rates count the visible scores' flops)"),
            ]
            if let copyGBs {
                lines.append(
                    "copy bandwidth (\(threads) threads, 256 MiB memcpy, read + written): \(TextFormat.fixed(copyGBs)) GB/s, "
                        + "interleaved; decode GB/s counts K and V read once")
            }
            lines.append(
                "     n    n_q    d   kernel GFLOP/s   ratio to sgemm   median s  visible"
                    + (copyGBs == nil ? "" : "   GB/s  of copy"))
            for p in points {
                var line = String(
                    format: "%6d %6d %4d %16.1f %16.3f %10.5f %8.4f", p.n, p.queries, p.d, p.gflops, p.gflops / sgemm,
                    p.seconds, p.visibleFraction)
                if let copyGBs { line += String(format: " %6.1f %7.2f", p.gbs, p.gbs / copyGBs) }
                lines.append(line)
            }
            return lines.joined(separator: "\n")
        }
    }
}
