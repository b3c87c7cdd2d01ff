import ArgumentParser
import AttnCore
import AttnKernels
import AttnPaged
import Foundation

/// `attnbound bench paged`: one decode step at 32k context per policy vs dense
/// exact decode (FastAttention) in the same run, then the accuracy table on the
/// shifting-importance trace.
struct BenchPagedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paged",
        abstract: "One decode step at 32k context: each policy vs dense exact decode.")

    @OptionGroup var options: BenchOptions

    @Option(help: "Context length in tokens.")
    var context: Int = 32768

    @Option(help: "Head dimension d (= d_v).")
    var d: Int = 128

    @Option(help: "KV heads.")
    var kvHeads: Int = 8

    @Option(parsing: .upToNextOption, help: "Query heads per KV head, one timing table each (1 = MHA, 4 = 4:1 GQA).")
    var groups: [Int] = [1, 4]

    @Option(help: "Page size in tokens.")
    var pageSize: Int = 32

    @Option(help: "KV budget in tokens.")
    var budget: Int = 2048

    @OptionGroup var threadsOption: ThreadsOption
    var threads: Int { threadsOption.count }

    @Flag(inversion: .prefixedNo, help: "Also run the accuracy table on the shifting-importance trace.")
    var accuracy = true

    @Option(help: "Accuracy trace: prompt tokens.")
    var accuracyContext: Int = 8192

    @Option(help: "Accuracy trace: decode steps.")
    var accuracySteps: Int = 64

    @Option(help: "Accuracy trace: budget in tokens.")
    var accuracyBudget: Int = 1024

    @Option(help: "Seed of the inputs and of the trace.")
    var seed: UInt64 = 42

    func validate() throws {
        guard (64...1 << 20).contains(context) else { throw ValidationError("--context must be in 64...\(1 << 20)") }
        guard (1...1024).contains(d) else { throw ValidationError("--d must be in 1...1024") }
        guard (1...256).contains(kvHeads) else { throw ValidationError("--kv-heads must be in 1...256") }
        guard !groups.isEmpty, groups.allSatisfy({ (1...64).contains($0) }) else { throw ValidationError("--groups must be in 1...64") }
        guard (1...65536).contains(pageSize) else { throw ValidationError("--page-size must be in 1...65536") }
        guard budget >= pageSize else { throw ValidationError("--budget \(budget) is smaller than one page (--page-size \(pageSize))") }
        guard budget < context else { throw ValidationError("--budget must be below --context") }
        guard (256...1 << 20).contains(accuracyContext), (2...10_000).contains(accuracySteps) else {
            throw ValidationError("--accuracy-context must be in 256...\(1 << 20) and --accuracy-steps in 2...10000")
        }
        guard accuracyBudget >= pageSize else { throw ValidationError("--accuracy-budget must be at least one page") }
        let bytes = Double(context) * Double(kvHeads) * Double(2 * d) * 4 * 4
        guard bytes < Double(ProcessInfo.processInfo.physicalMemory) * 0.8 else {
            throw AttnError.infeasible("--context \(context) × --kv-heads \(kvHeads) needs about \(Int(bytes / 1e9)) GB")
        }
    }

    func run() throws {
        options.printBLAS()
        var results: [JSONValue] = []
        for g in groups {
            var setup = PagedBenchmark.Setup()
            (setup.context, setup.d, setup.kvHeads, setup.groupSize, setup.pageSize) = (context, d, kvHeads, g, pageSize)
            (setup.budgetTokens, setup.runs, setup.threads, setup.seed) = (budget, options.runs, threads, seed)
            let r = try PagedBenchmark.run(setup) { printNote("bench paged (group \(g)): " + $0) }
            if options.json {
                results.append(.object([("group", .int(g)), ("dense_seconds", .double(r.denseSeconds)),
                                        ("dense_input_check_seconds", .double(r.inputCheckSeconds)),
                                        ("dense_paged_seconds", .double(r.densePagedSeconds)),
                                        ("policies", .array(r.policies.map { p in
                                            .object([("policy", .string(p.policy)), ("step_seconds", .double(p.stepSeconds)),
                                                     ("speedup", .double(r.denseSeconds / p.stepSeconds)),
                                                     ("speedup_vs_dense_paged", .double(r.densePagedSeconds / p.stepSeconds)),
                                                     ("scoring_share", .double(p.scoringShare)), ("pages_attended", .int(p.pagesAttended)),
                                                     ("pages_read_per_kv_head", .int(p.pagesRead)),
                                                     ("pages_recalled", .int(p.pagesRecalled)), ("bound_seconds", .double(p.boundSeconds)),
                                                     ("max_error_bound", .double(p.bound))])
                                        }))]))
            } else {
                print("decode step: context \(context), d \(d), \(kvHeads) KV heads × \(g) query heads, page \(pageSize), "
                      + "budget \(budget) tokens, \(threads) threads, median of \(options.runs)")
                print(String(format: "dense exact, FastAttention.compute (trusted inputs): %.5f s (a NaN/Inf scan of K and V would add %.5f s)",
                             r.denseSeconds, r.inputCheckSeconds))
                print(String(format: "dense exact, paged kernel over every page: %.5f s", r.densePagedSeconds))
                print("policy                 step s   vs FastAttention  vs dense paged  scoring share  pages/head  read/kv  recalled   bound s  step bound")
                for p in r.policies {
                    print(String(format: "%@ %9.6f %17.1fx %14.1fx %13.1f%% %11d %8d %9d %9.5f  %@", p.policy.padding(toLength: 20, withPad: " ", startingAt: 0),
                                 p.stepSeconds, r.denseSeconds / p.stepSeconds, r.densePagedSeconds / p.stepSeconds,
                                 100 * p.scoringShare, p.pagesAttended, p.pagesRead, p.pagesRecalled, p.boundSeconds, String(format: "%.3g", p.bound)))
                }
                print("")
            }
        }
        var accuracyRows: [JSONValue] = []
        if accuracy {
            var p = SyntheticTrace.Parameters()
            (p.prefill, p.steps, p.pageSize, p.seed) = (accuracyContext, accuracySteps, pageSize, seed)
            p.passkeyPage = accuracyContext / pageSize / 2 - 1
            p.askStep = accuracySteps * 3 / 4
            let trace = try SyntheticTrace(p)
            let rows = try PagedBenchmark.accuracy(trace: trace, policies: PolicyKind.allCases, budgetTokens: accuracyBudget,
                                                   threads: threads) { printNote("bench paged accuracy: " + $0) }
            if options.json {
                accuracyRows = rows.map { s in
                    .object([("policy", .string(s.policy)), ("mean_attended_recall", .double(s.meanAttendedRecall)),
                             ("max_abs_error", .double(s.maxError)), ("mean_abs_error", .double(s.meanError)),
                             ("late_mean_abs_error", .double(s.meanErrorLate)), ("max_error_bound", .double(s.maxBound)),
                             ("median_bound_to_error", .double(s.medianBoundRatio)), ("bound_violations", .int(s.violations)),
                             ("pages_recalled", .int(s.pagesRecalled)), ("scoring_saved", .double(s.scoringSaved))])
                }
            } else {
                print("accuracy: shifting-importance trace, prompt \(accuracyContext), \(accuracySteps) steps (passkey asked from step "
                      + "\(p.askStep)), \(p.kvHeads) KV heads × \(p.groupSize), d \(p.d), page \(pageSize), budget \(accuracyBudget), seed \(seed)")
                print("policy      attended recall  max error  mean error  mean err (ask)  max bound  median bound/error  violations  recalled  scoring saved")
                for s in rows {
                    print(String(format: "%@ %15.3f %10.3g %11.3g %15.3g %10.3g %19.3g %11d %9d %13.0f%%", s.policy.padding(toLength: 13, withPad: " ", startingAt: 0), s.meanAttendedRecall,
                                 s.maxError, s.meanError, s.meanErrorLate, s.maxBound, s.medianBoundRatio, s.violations,
                                 s.pagesRecalled, 100 * s.scoringSaved))
                }
            }
        }
        if options.json {
            print(JSONValue.object([("blas", BLASInfo.current.json), ("benchmark", "paged"), ("context", .int(context)), ("d", .int(d)), ("kv_heads", .int(kvHeads)),
                                    ("page_size", .int(pageSize)), ("budget", .int(budget)), ("threads", .int(threads)),
                                    ("runs", .int(options.runs)), ("seed", .string(String(seed))), ("timings", .array(results)),
                                    ("accuracy", .array(accuracyRows))]).serialized())
        }
    }
}
