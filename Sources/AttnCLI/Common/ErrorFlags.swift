import AttnCore

/// The command-line flag for each library parameter: the one place where the
/// library's Swift names meet the CLI's spellings (the library never names a flag).
func flagName(for parameter: Parameter) -> String {
    switch parameter {
    case .q: "--q"
    case .k: "--k"
    case .v: "--v"
    case .scale: "--scale"
    case .causal: "--causal"
    case .precision: "--precision"
    case .kernel: "--kernel"
    case .output: "--out"
    case .B: "--B"
    case .epsilon: "--eps"
    case .rank: "--rank"
    case .n: "--n"
    case .d: "--d"
    case .degree: "--degree"
    case .budget: "--budget"
    case .pageSize: "--page-size"
    case .sinkPages: "--sink-pages"
    case .windowPages: "--window-pages"
    case .topkPages: "--topk-pages"
    case .context: "--context"
    case .steps: "--steps"
    case .policy: "--policy"
    case .steadyCosine: "--steady-cosine"
    case .threshold: "--thr"
    case .mustSkip: "--must-skip"
    case .sink: "--sink"
    case .vision: "--vision"
    case .replay: "--replay"
    case .ulysses: "--ulysses"
    case .ring: "--ring"
    case .devices: "--devices"
    case .checkpoint: "--checkpoint"
    case .ranksOutput: "--ranks-out"
    case .experiment: "--experiment"
    case .resume: "--resume"
    case .shard: "--shard"
    case .dConstant: "--C"
    case .hardDConstant: "--hard-C"
    case .epsilonPower: "--eps-power"
    case .gamma: "--gamma"
    case .sampleRows: "--rows"
    case .maxDegree: "--max-degree"
    case .trials: "--trials"
    case .distribution: "--distribution"
    case .bGrid: "--B"
    }
}

extension AttnError {
    /// The one line the CLI prints: the message, prefixed by the flag at fault.
    var cliMessage: String {
        parameter.map { "\(flagName(for: $0)): \(message)" } ?? message
    }
}
