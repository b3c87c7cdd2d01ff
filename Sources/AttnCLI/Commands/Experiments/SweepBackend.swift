import AttnExperiments

/// The polynomial backend the CLI's sweep uses.
enum SweepBackend {
    static var current: any PolynomialBackend { ShiftedTaylorBackend() }
}
