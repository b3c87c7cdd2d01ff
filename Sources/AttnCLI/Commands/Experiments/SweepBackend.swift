import AttnCore
import AttnExperiments
import AttnPoly

/// The polynomial backend the CLI's sweep uses: AttnPoly, one family.
enum SweepBackend {
    static func make(family: String) throws -> any PolynomialBackend {
        guard let f = ExpFamily(rawValue: family) else {
            throw AttnError.usage("--family \(family): expected one of \(ExpFamily.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return AttnPolyBackend(family: f)
    }
}
