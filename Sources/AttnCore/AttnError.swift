/// The one error type every attnbound library function throws.
///
/// Its `kind` fixes the CLI exit code (AttnKit.docc/Conventions.md): `usage` → 2,
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
        // One line, always: scripts grep stderr.
        self.message = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    public static func usage(_ message: String) -> AttnError { AttnError(.usage, message) }
    public static func infeasible(_ message: String) -> AttnError { AttnError(.infeasible, message) }
    public static func checkFailed(_ message: String) -> AttnError { AttnError(.checkFailed, message) }

    /// The process exit code for this error (AttnKit.docc/Conventions.md, "Exit codes").
    public var exitCode: Int32 {
        switch kind {
        case .usage: 2
        case .checkFailed: 1
        case .infeasible: 3
        }
    }

    public var description: String { message }
}
