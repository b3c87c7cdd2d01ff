import AttnCertified
import AttnCore
import Foundation
import Testing

/// `VerifyRequest` and `TieredVerificationReport.merge(files:)`: bad parameters name the
/// parameter, a wrong-shaped candidate names its path, an honest output passes and a moved
/// entry fails with the report still built.
@Suite struct VerifyRequestTests {
    let dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("verifyreq-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Q, K, V [2, 6, 3] in Float32 and the certified output's midpoint rounded to Float32.
    func request(candidate: Tensor<Float>? = nil) throws -> VerifyRequest {
        let (q, k, v): (Tensor<Float>, Tensor<Float>, Tensor<Float>) = InputDistribution.uniform.attentionInputs(
            heads: 2, queries: 6, keys: 6, d: 3, seed: 5)
        for (name, t) in [("q", q), ("k", k), ("v", v)] { try Npy.write(t, to: path("\(name).npy")) }
        let c = try CertifiedAttention.compute(q: q, k: k, v: v, scale: .standard)
        var o = Tensor<Float>(heads: 2, rows: 6, cols: 3, logicalRank: 3)
        for i in 0..<o.count { o[flat: i] = Float((c.lower[flat: i] + c.upper[flat: i]) / 2) }
        try Npy.write(candidate ?? o, to: path("o.npy"))
        return VerifyRequest(q: path("q.npy"), k: path("k.npy"), v: path("v.npy"), candidate: path("o.npy"))
    }

    func usage(_ body: () throws -> Void) -> AttnError? {
        do { try body() } catch let e as AttnError { return e.kind == .usage ? e : nil } catch { return nil }
        return nil
    }

    @Test func badParametersAreNamed() throws {
        var r = try request()
        r.precision = 3
        #expect(usage { try r.validate() }?.parameter == .precision)
        r = try request()
        (r.tolerance, r.atol) = (1e-6, 1e-6)
        #expect(usage { try r.validate() }?.parameter == .tolerance)
        for p in [Parameter.tolerance, .atol, .rtol] {
            r = try request()
            switch p {
            case .tolerance: r.tolerance = -1
            case .atol: r.atol = .nan
            default: r.rtol = .infinity
            }
            #expect(usage { try r.validate() }?.parameter == p)
        }
        r = try request()
        r.heads = 1..<3
        #expect(usage { _ = try r.run() }?.parameter == .heads)
    }

    @Test func defaultToleranceIsAbsolute1e6() throws {
        var r = try request()
        #expect(r.options.atol == 1e-6 && r.options.rtol == 0)
        r.rtol = 1e-3
        #expect(r.options.atol == 0 && r.options.rtol == 1e-3)
    }

    @Test func wrongShapedCandidateNamesItsPath() throws {
        let r = try request(candidate: Tensor<Float>(heads: 2, rows: 6, cols: 2, logicalRank: 3))
        let e = usage { _ = try r.run() }
        #expect(e?.parameter == .candidate && e?.message.hasPrefix(path("o.npy")) == true, "\(String(describing: e))")
    }

    @Test func honestPassesAndMovedEntryFails() throws {
        let pass = try request().run()
        #expect(pass.failure == nil && pass.text.first?.contains("PASS") == true)
        var o: Tensor<Float> = try Npy.read(path("o.npy"))
        o[flat: 7] += 1e-3
        let fail = try request(candidate: o).run()
        #expect(fail.failure?.kind == .checkFailed)
        guard case .object(let fields) = fail.json else { Issue.record("not an object"); return }
        #expect(fields.contains { $0.0 == "candidate" } && fields.contains { $0.0 == "max_error_bound" })
    }

    @Test func mergeNamesTheUnreadableFile() throws {
        try Data("{}".utf8).write(to: URL(fileURLWithPath: path("bad.json")))
        for file in [path("missing.json"), path("bad.json")] {
            let e = usage { _ = try TieredVerificationReport.merge(files: [file]) }
            #expect(e?.message.hasPrefix(file) == true, "\(String(describing: e))")
        }
    }
}
