import AttnCore
import Foundation

/// `bench paged`'s printed forms: one timing table per group size, and the accuracy table.
extension PagedBenchmark.Result {
    /// One element of the JSON `timings` array.
    public var json: JSONValue {
        .object([
            ("group", .int(setup.groupSize)), ("dense_seconds", .double(denseSeconds)),
            ("dense_gbs", .double(denseGBs)), ("copy_gbs", .double(copyGBs)),
            ("dense_input_check_seconds", .double(inputCheckSeconds)),
            ("dense_paged_seconds", .double(densePagedSeconds)),
            (
                "policies",
                .array(
                    policies.map { p in
                        .object([
                            ("policy", .string(p.policy)), ("step_seconds", .double(p.stepSeconds)),
                            ("speedup", .double(denseSeconds / p.stepSeconds)),
                            ("speedup_vs_dense_paged", .double(densePagedSeconds / p.stepSeconds)),
                            ("scoring_share", .double(p.scoringShare)), ("pages_attended", .int(p.pagesAttended)),
                            ("pages_read_per_kv_head", .int(p.pagesRead)), ("pages_recalled", .int(p.pagesRecalled)),
                            ("bound_seconds", .double(p.boundSeconds)), ("max_error_bound", .double(p.bound)),
                        ])
                    })
            ),
        ])
    }

    /// The timing table, ending with an empty line.
    public var text: String {
        let s = setup
        var lines = [
            "decode step: context \(s.context), d \(s.d), \(s.kvHeads) KV heads × \(s.groupSize) query heads, "
                + "page \(s.pageSize), budget \(s.budgetTokens) tokens, \(s.threads) threads, median of \(s.runs)",
            String(
                format:
                    "dense exact, FastAttention.compute (trusted inputs): %.5f s, %.1f GB/s of K and V = %.2f of the copy "
                    + "bandwidth (%.1f GB/s, read + written, interleaved); a NaN/Inf scan of K and V would add %.5f s",
                denseSeconds, denseGBs, denseGBs / copyGBs, copyGBs, inputCheckSeconds),
            String(format: "dense exact, paged kernel over every page: %.5f s", densePagedSeconds),
            "policy                 step s   vs FastAttention  vs dense paged  scoring share  pages/head  read/kv  recalled   bound s  step bound",
        ]
        for p in policies {
            lines.append(
                String(
                    format: "%@ %9.6f %17.1fx %14.1fx %13.1f%% %11d %8d %9d %9.5f  %@",
                    p.policy.padding(toLength: 20, withPad: " ", startingAt: 0), p.stepSeconds,
                    denseSeconds / p.stepSeconds, densePagedSeconds / p.stepSeconds, 100 * p.scoringShare,
                    p.pagesAttended, p.pagesRead, p.pagesRecalled, p.boundSeconds, String(format: "%.3g", p.bound)))
        }
        return (lines + [""]).joined(separator: "\n")
    }
}

extension ReplaySummary {
    /// One element of `bench paged`'s JSON `accuracy` array.
    public var benchmarkJSON: JSONValue {
        .object([
            ("policy", .string(policy)), ("mean_attended_recall", .double(meanAttendedRecall)),
            ("max_abs_error", .double(maxError)), ("mean_abs_error", .double(meanError)),
            ("late_mean_abs_error", .double(meanErrorLate)), ("max_error_bound", .double(maxBound)),
            ("median_bound_to_error", .double(medianBoundRatio)), ("bound_violations", .int(violations)),
            ("pages_recalled", .int(pagesRecalled)), ("scoring_saved", .double(scoringSaved)),
        ])
    }

    /// The accuracy table's header and one row per summary.
    public static func benchmarkTable(_ rows: [ReplaySummary]) -> String {
        ([
            "policy      attended recall  max error  mean error  mean err (ask)  max bound  median bound/error  violations  recalled  scoring saved"
        ]
            + rows.map { s in
                String(
                    format: "%@ %15.3f %10.3g %11.3g %15.3g %10.3g %19.3g %11d %9d %13.0f%%",
                    s.policy.padding(toLength: 13, withPad: " ", startingAt: 0), s.meanAttendedRecall, s.maxError,
                    s.meanError, s.meanErrorLate, s.maxBound, s.medianBoundRatio, s.violations, s.pagesRecalled,
                    100 * s.scoringSaved)
            }).joined(separator: "\n")
    }
}
