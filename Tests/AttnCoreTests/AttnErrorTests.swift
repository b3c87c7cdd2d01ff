import AttnCore
import Foundation
import Testing

/// Error messages are one line with no raw control bytes (scripts grep stderr; terminals interpret them).
@Suite struct AttnErrorTests {
    static func hasControl(_ s: String) -> Bool {
        s.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    @Test func controlBytesAreEscaped() {
        let e = AttnError.usage("bad\u{1e}key\tand\u{7f}\u{9b}\nnext line\u{85}end")
        #expect(!Self.hasControl(e.message))
        // Line breaks (\n, NEL) become spaces; other control bytes are escaped.
        #expect(e.message == "bad\\x1ekey\\x09and\\x7f\\x9b next line end")
    }

    /// A malformed .npy header used to put a raw 0x1E into the one-line error.
    @Test func malformedNpyHeaderGivesAnEscapedOneLineError() {
        let data = NpyBytes.make(
            descr: "<f4", shape: "(1,)", body: [0, 0, 0, 0],
            headerText: "{'descr': '<f4\u{1e}', 'fortran_order': False, 'shape': (1,), }")
        do {
            _ = try Npy.decode(data, name: "x.npy", as: Float.self)
            Issue.record("accepted")
        } catch let e as AttnError {
            #expect(e.exitCode == 2)
            #expect(!Self.hasControl(e.message), "\(e.message.debugDescription)")
            #expect(e.message.contains("\\x1e"), "\(e.message.debugDescription)")
        } catch { Issue.record("\(error)") }
    }
}
