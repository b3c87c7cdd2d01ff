/// The one error type every attnbound library function throws.
///
/// It is typed for callers: `kind` says what went wrong (and fixes the CLI exit
/// code, AttnKit.docc/Conventions.md: `usage` → 2, `checkFailed` → 1, `infeasible` → 3), and
/// `parameter`, when one argument is at fault, names it by its Swift name.
/// The message is one line in plain words and names no command-line flag: the
/// CLI maps `parameter` to its flag (`AttnCLI.flagName(for:)`).
public struct AttnError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        /// Bad argument, malformed or unsupported input, NaN/Inf, shape mismatch.
        case usage
        /// A check ran and failed (e.g. a certified bound above a tolerance).
        case checkFailed
        /// A valid request beyond a resource limit (memory, rank, size).
        case infeasible
    }

    public let kind: Kind
    /// The argument at fault, if one is (nil for e.g. a malformed file).
    public let parameter: Parameter?
    /// One line, without the parameter's name (see `description`).
    public let message: String

    public init(_ kind: Kind, _ message: String, parameter: Parameter? = nil) {
        self.kind = kind
        self.parameter = parameter
        // One line, always: scripts grep stderr. Other control bytes (e.g. from a malformed
        // file header) are escaped, so a terminal or a log never receives them raw.
        self.message = AttnError.escapingControls(message.split(whereSeparator: \.isNewline).joined(separator: " "))
    }

    /// `text` with every control scalar (C0, DEL, C1) written as `\xNN` or `\u{NNNN}`.
    static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        var out = ""
        for c in text.unicodeScalars {
            if c.properties.generalCategory != .control { out.unicodeScalars.append(c); continue }
            let hex = String(c.value, radix: 16)
            out += c.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex)}"
        }
        return out
    }

    public static func usage(_ message: String) -> AttnError { AttnError(.usage, message) }
    public static func infeasible(_ message: String) -> AttnError { AttnError(.infeasible, message) }
    public static func checkFailed(_ message: String) -> AttnError { AttnError(.checkFailed, message) }
    /// Invalid value of `parameter`.
    public static func usage(_ parameter: Parameter, _ message: String) -> AttnError {
        AttnError(.usage, message, parameter: parameter)
    }
    /// A value of `parameter` beyond a limit (the message says which).
    public static func infeasible(_ parameter: Parameter, _ message: String) -> AttnError {
        AttnError(.infeasible, message, parameter: parameter)
    }

    /// The process exit code for this error (AttnKit.docc/Conventions.md, "Exit codes").
    public var exitCode: Int32 {
        switch kind {
        case .usage: 2
        case .checkFailed: 1
        case .infeasible: 3
        }
    }

    /// "parameter: message", with the parameter's Swift name.
    public var description: String {
        parameter.map { "\($0.rawValue): \(message)" } ?? message
    }
}

/// An argument of a library function that an `AttnError` can blame, by the
/// name it has in Swift (`AttnError.parameter`).
///
/// One enum for the whole library so that a front end maps each case to its own
/// spelling once (the CLI to its flags); cases are added as functions gain
/// arguments that can be wrong.
public enum Parameter: String, Sendable, Hashable, CaseIterable {
    // Attention inputs (AttnKit.docc/Conventions.md, "Tensors", "Scale").
    case q, k, v, scale, causal
    /// The score model (`ScoreModel`): mask alignment, window, explicit mask, bias, ALiBi slopes, softcap, sinks.
    case align, window, mask, bias, alibi, softcap, sinks
    /// The working precision (bits of the certified reference).
    case precision
    /// The kernel chosen (e.g. the reference, which stores every weight).
    case kernel
    /// A folder or file to write.
    case output
    // Polynomial method and low-rank baselines.
    case B, epsilon, rank, n, d, degree
    // Planning, demos, benchmarks and the sweep's B/√ln n grid.
    case dv, seed, runs, minLog2, maxLog2, exactMaxLog2, queries, queryTile, errorRows, cMin, cMax, cSteps
    // Paged decoding.
    case budget, pageSize, sinkPages, windowPages, topkPages, context, steps, policy, steadyCosine, reduction
    // Block-sparse kernels and planners.
    case threshold, mustSkip, sink, vision, replay, ulysses, ring, devices, checkpoint, ranksOutput
    // Sweeps.
    case experiment, resume, shard, dConstant, hardDConstant, epsilonPower, gamma, sampleRows, maxDegree,
        trials, distribution, bGrid
    // Paged replay and benchmark, certified verification, block-sparse planning and LiteAttention.
    case steadyReuse, kvHeads, group, dim, groups, accuracyContext, accuracySteps, accuracyBudget
    case candidate, heads, tolerance, atol, rtol
    /// The backward pass: the upstream gradient dO, and candidate gradients to certify.
    case dO, dqCandidate, dkCandidate, dvCandidate, dqOut, dkOut, dvOut
    case qTile, kTile, blocks, minDensity, maxDensity, blockSize, headDim, bytesPerElement, denseSeconds,
        launchSeconds, bandwidth, latency, rewards
    // Tensor files, fp8 descales and the kernel accuracy report (issue 24).
    case tensors, names, qDescale, kDescale, vDescale, candidateType, maxFloorRatio, report
    case frames, height, width, signal, noise, correlation, mustDo, target, grid, liteSampleRows, lookahead,
        resetEvery, thrSchedule, layerThreshold, tokensThreshold, mode
    // The certified log-sum-exp.
    case lseCandidate, lseAtol
    /// The shape of `vectors`' custom case.
    case caseShape
    // The training loss ½‖D⁻¹exp(A₁XA₂ᵀ/d)A₃Y − E‖²_F (AttnPoly's gradient method).
    case a1, x, a2, a3, y, e
}
