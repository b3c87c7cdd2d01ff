import AttnCore
import AttnKernels
import AttnPruning
import Foundation
import Testing

/// `PruneRequest`: each parameter out of range is named; a run reads the files and reports
/// one summary row whose error against the masked reference is at rounding level.
@Suite struct PruneRequestTests {
    func request(_ edit: (inout PruneRequest) -> Void = { _ in }) throws -> PruneRequest {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prune-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = Xoshiro256StarStar(seed: 4)
        var paths: [String] = []
        for name in ["q", "k", "v"] {
            let x: Tensor<Float> = InputDistribution.uniform.sample(heads: 2, rows: 20, cols: 4, bound: 2, using: &rng)
            paths.append(dir.appendingPathComponent("\(name).npy").path)
            try Npy.write(x, to: paths.last!)
        }
        var r = PruneRequest(q: paths[0], k: paths[1], v: paths[2], mode: .deep)
        r.vision = [3..<12]
        edit(&r)
        return r
    }

    func named(_ edit: (inout PruneRequest) -> Void) throws -> Parameter? {
        let r = try request(edit)
        do { try r.validate() } catch let e as AttnError { return e.parameter }
        return nil
    }

    @Test func eachBadParameterIsNamed() throws {
        #expect(try named { _ in } == nil)
        #expect(try named { $0.vision = [] } == .vision)
        #expect(try named { ($0.mode, $0.sink) = (.shallow, -1) } == .sink)
        #expect(try named { $0.sink = 3 } == .sink)  // not the shallow mode
        #expect(try named { $0.layerThreshold = .nan } == .layerThreshold)
        #expect(try named { $0.tokensThreshold = -1 } == .tokensThreshold)
    }

    @Test func deepDropsTheVisionTokens() throws {
        let (report, evaluation) = try request().run(as: Float.self)
        #expect(evaluation.keptCount == 11 && evaluation.maxAbsError < 1e-5)
        #expect(report.table?.rows.count == 1 && report.table?.header == PruneEvaluation<Float>.summaryHeader)
        #expect(report.parameters.contains { $0.0 == "precision" && $0.1 == "float32" })
        #expect(report.text.first?.hasPrefix("prune deep: kept 11 of 20 tokens") == true)
    }
}
