/// The one error type every attnbound library function throws.
///
/// Its `kind` fixes the CLI exit code (CONVENTIONS.md): `usage` → 2,
/// `checkFailed` → 1, `infeasible` → 3. The message is one line and names the
/// file or flag at fault.
public struct AttnError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        /// Bad flag, malformed or unsupported input, NaN/Inf, shape mismatch.
        case usage
        /// A check ran and failed (e.g. a certified bound above a tolerance).
        case checkFailed
        /// A valid request beyond a resource limit (memory, rank, size).
        case infeasible
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        // One line, always: scripts grep stderr. Other control bytes (e.g. from a malformed
        // file header) are escaped, so a terminal or a log never receives them raw.
        self.message = AttnError.escapingControls(message.split(whereSeparator: \.isNewline).joined(separator: " "))
    }

    /// `text` with every control scalar (C0, DEL, C1) written as `\xNN` or `\u{NNNN}`.
    static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        var out = ""
        for c in text.unicodeScalars {
            if c.properties.generalCategory != .control { out.unicodeScalars.append(c); continue }
            let hex = String(c.value, radix: 16)
            out += c.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex)}"
        }
        return out
    }

    public static func usage(_ message: String) -> AttnError { AttnError(.usage, message) }
    public static func infeasible(_ message: String) -> AttnError { AttnError(.infeasible, message) }
    public static func checkFailed(_ message: String) -> AttnError { AttnError(.checkFailed, message) }

    /// The process exit code for this error (CONVENTIONS.md, "Exit codes").
    public var exitCode: Int32 {
        switch kind {
        case .usage: 2
        case .checkFailed: 1
        case .infeasible: 3
        }
    }

    public var description: String { message }
}
