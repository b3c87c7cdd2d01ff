import AttnCore
import AttnPaged
import Foundation
import Testing

/// `PagedConformance`: the policies reproduce the independently stated Quest and ArkVale rules on every case,
/// and the cases reach the edges they claim.
@Suite("page-selection conformance")
struct PagedConformanceTests {
    func replayed(_ c: PagedConformance.Case) throws -> String {
        let (records, _) = try KVReplay.run(
            keys: c.keys, values: c.values, queries: c.queries, policy: c.policy,
            config: c.config, pageSize: c.pageSize, scale: .standard,
            evaluate: false, certify: false, threads: 1)
        return SelectionCSV.text(records)
    }

    @Test func policiesReproduceEveryCaseExactly() throws {
        for c in PagedConformance.all {
            #expect(try replayed(c) == SelectionCSV.text(PagedConformance.expectedSelection(c)), "\(c.name)")
        }
    }

    func selection(_ name: String) -> [(step: Int, head: Int, pages: [Int])] {
        PagedConformance.expectedSelection(PagedConformance.all.first { $0.name == name }!)
    }

    @Test func casesReachTheirEdges() {
        // Budget ≥ context: every page at every step (Quest's code would still prune, issue 22).
        for name in ["quest-budget-covers-context", "arkvale-budget-covers-context"] {
            let c = PagedConformance.all.first { $0.name == name }!
            for r in selection(name) {
                let tokens = c.keys.rows - c.queries.rows + r.step + 1
                #expect(r.pages == Array(0..<(tokens + 3) / 4), "\(name) step \(r.step)")
            }
        }
        // Ties: the tied best pages 0, 1, 3, 5 (Quest, 2 picks) and 2, 4, 6 (ArkVale, 2 picks) go to the lower indices.
        for r in selection("quest-ties") {
            #expect(r.pages.prefix(2) == [0, 1] && !r.pages.contains(3) && !r.pages.contains(5))
        }
        for r in selection("arkvale-ties") {
            #expect(r.pages.contains(2) && r.pages.contains(4) && !r.pages.contains(6))
        }
        // Per-head Quest under GQA: some group's heads differ; with the group mean they never do.
        let perHead = selection("quest-gqa-per-head"), mean = selection("quest-gqa-group-mean")
        #expect(stride(from: 0, to: perHead.count, by: 2).contains { perHead[$0].pages != perHead[$0 + 1].pages })
        #expect(stride(from: 0, to: mean.count, by: 2).allSatisfy { mean[$0].pages == mean[$0 + 1].pages })
        // Partial last page: contexts of 29…32 tokens, so the last page holds 1…4 tokens, always selected.
        for r in selection("quest-partial-last-page") { #expect(r.pages.last == 7) }
        // Sinks and windows: page 0 and the last two pages are always in the ArkVale selection.
        for r in selection("arkvale-sink-window") {
            let n = (44 + r.step + 1 + 3) / 4
            #expect(r.pages.first == 0 && r.pages.suffix(2) == [n - 2, n - 1] && r.pages.count == 5)
        }
    }

    @Test func writtenFilesHoldTheCases() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("paged-vectors-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = try PagedConformance.write(to: dir)
        #expect(names == PagedConformance.all.map(\.name))
        for c in PagedConformance.all {
            let folder = dir.appendingPathComponent(c.name)
            let k: Tensor<Float> = try Npy.read(folder.appendingPathComponent("k.npy").path)
            #expect(k.storage == c.keys.storage)
            let csv = try String(contentsOf: folder.appendingPathComponent("expected_selection.csv"), encoding: .utf8)
            #expect(csv == SelectionCSV.text(PagedConformance.expectedSelection(c)))
            let kmax: Tensor<Float> = try Npy.read(folder.appendingPathComponent("digest_key_max.npy").path)
            #expect(kmax.rows == c.keys.rows / c.pageSize)
        }
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("README.md").path))
    }
}
