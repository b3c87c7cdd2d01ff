import AttnCore
import AttnExperiments
import AttnPoly

/// The polynomial backend the CLI's sweep uses: AttnPoly, one family.
enum SweepBackend {
    static func make(family: ExpFamily) -> any PolynomialBackend { AttnPolyBackend(family: family) }
}
