import AttnCore
import Foundation
import Testing

/// The version string and CITATION.cff agree (scripts/bump-version.sh keeps them in step).
struct VersionTests {
    @Test func citationStatesTheVersion() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let cff = try String(contentsOf: root.appendingPathComponent("CITATION.cff"), encoding: .utf8)
        let versions = cff.split(separator: "\n").filter { $0.hasPrefix("version:") }
            .map { $0.dropFirst("version:".count).trimmingCharacters(in: CharacterSet(charactersIn: " \"'")) }
        #expect(versions == [AttnVersion.current])
        let parts = AttnVersion.current.split(separator: ".")
        #expect(parts.count == 3 && parts.allSatisfy { UInt($0) != nil })
    }
}
