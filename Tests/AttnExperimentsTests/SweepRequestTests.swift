import AttnCore
import AttnExperiments
import Foundation
import Testing

/// `SweepRequest`: defaults give the default grids, overrides reshape them, and every bad value
/// is an `AttnError` naming its parameter; `SweepRunner.run` leaves no folder behind on bad input.
struct SweepRequestTests {
    @Test func defaultsAreTheDefaultGrids() throws {
        let cfg = try SweepRequest().configuration()
        #expect(cfg == SweepConfiguration())
        #expect(SweepRequest().note == nil)
    }

    @Test func overridesReshapeEveryExperimentsGrid() throws {
        var r = SweepRequest()
        (r.experiments, r.ns, r.cSteps, r.cMax, r.trials) = ([.errorVsB], [64, 128], 3, 2, 2)
        let g = try r.configuration().grid(.errorVsB)
        #expect(g.ns == [64, 128] && g.trials == 2)
        #expect(g.b == .relative(BGrid.logSpaced(0.02, 2, count: 3)))
        r.bValues = [0.5, 1]
        #expect(throws: AttnError.usage(.bGrid, "absolute B values cannot be combined with a B/√ln n grid")) {
            try r.configuration()
        }
        (r.cSteps, r.cMax) = (nil, nil)
        #expect(try r.configuration().grid(.errorVsB).b == .absolute([0.5, 1]))
        r.fixedD = 12
        #expect(r.note?.contains("fixed at 12") == true)
    }

    @Test func badValuesNameTheirParameter() {
        let cases: [(WritableKeyPath<SweepRequest, Double?>, Double, Parameter)] = [
            (\.cMin, 0, .cMin), (\.cMax, 101, .cMax), (\.cMin, .nan, .cMin), (\.cMin, 2.5, .cMin),
        ]
        for (path, value, parameter) in cases {
            var r = SweepRequest()
            r[keyPath: path] = value
            if path == \SweepRequest.cMin && value == 2.5 { r.cMax = 1 }
            let error = #expect(throws: AttnError.self) { try r.configuration() }
            #expect(error?.parameter == parameter, "\(parameter) \(value)")
        }
        var r = SweepRequest()
        r.cSteps = 0
        #expect((#expect(throws: AttnError.self) { try r.configuration() })?.parameter == .cSteps)
    }

    @Test func badRequestCreatesNoFolder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-request-\(UUID())")
        var r = SweepRequest()
        r.gamma = -1
        r.fixedD = 8  // a note is due, but only once the request is valid
        var notes: [String] = []
        #expect(throws: AttnError.self) {
            try SweepRunner.run(r, in: dir.path, version: "test", argv: [], note: { notes.append($0) })
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path) && notes.isEmpty)
    }
}
