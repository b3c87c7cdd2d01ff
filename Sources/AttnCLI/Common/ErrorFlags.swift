import AttnCore

/// The command-line flag for each library parameter: the one place where the library's
/// Swift names meet the CLI's spellings (the library never names a flag). A parameter's
/// flag is its name in kebab case (`pageSize` → `--page-size`) unless listed here.
private let irregularFlags: [Parameter: String] = [
    .B: "--B", .bGrid: "--B", .dConstant: "--C", .hardDConstant: "--hard-C", .epsilon: "--eps",
    .epsilonPower: "--eps-power", .threshold: "--thr", .sampleRows: "--rows", .output: "--out",
    .ranksOutput: "--ranks-out", .topkPages: "--topk", .liteSampleRows: "--sample-rows",
]

func flagName(for parameter: Parameter) -> String {
    irregularFlags[parameter] ?? "--"
        + parameter.rawValue.map { $0.isUppercase ? "-" + $0.lowercased() : "\($0)" }.joined()
}

extension AttnError {
    /// The one line the CLI prints: the message, prefixed by the flag at fault.
    var cliMessage: String { parameter.map { "\(flagName(for: $0)): \(message)" } ?? message }
}
