/// What one run of a library entry point produced, in the one shape every front end writes.
///
/// A command's whole result: the parameters it ran with and the seed (recorded in the
/// sidecar), the optional per-point table (the CSV), the summary, the text a person reads,
/// and, when a check ran and failed, the failure. The library builds it; a front end only
/// writes it (the CLI's `emit`: CSV + sidecar, then `json` or `text`, then throws `failure`).
/// Keys follow AttnKit.docc/Conventions.md ("Machine-readable output"): `snake_case`,
/// bounds end in `_bound`, measured errors in `_error`.
public struct RunReport: Sendable {
    /// A CSV table: one header row, one row per measured point, each field already formatted.
    public struct Table: Sendable, Equatable {
        public var header: [String]
        public var rows: [[String]]
        public init(header: [String], rows: [[String]]) {
            self.header = header
            self.rows = rows
        }
        /// The RFC 4180 text.
        public var csv: String { CSV.row(header) + rows.map(CSV.row).joined() }
    }

    /// The subcommand, e.g. "regime" or "bench exact" (a sidecar's `tool` is "attnbound " + this).
    public var command: String
    /// Every parameter of the run, in the order a reader expects them.
    public var parameters: [(String, JSONValue)]
    /// The seed of every random input, or nil when the numbers depend on the inputs alone.
    public var seed: UInt64?
    /// Results over the whole run (for `--json` and the sidecar).
    public var summary: [(String, JSONValue)]
    /// One row per point, when the run has points.
    public var table: Table?
    /// The text summary, one element per line.
    public var text: [String]
    /// The one JSON object of `--json`: by default the parameters, then the summary.
    public var json: JSONValue
    /// Keys the sidecar holds after the common ones (e.g. the summary).
    public var sidecarExtra: [(String, JSONValue)]
    /// Set when a check ran and failed: the run's outputs are still written, then this is thrown.
    public var failure: AttnError?
    /// The parameters the text's notes point the reader to, in order (the library names no flag: a front end
    /// spells them its own way; the CLI prints them after the text as one `see: --flag, …` line).
    public var pointers: [Parameter] = []

    public init(
        command: String, parameters: [(String, JSONValue)] = [], seed: UInt64? = nil,
        summary: [(String, JSONValue)] = [], table: Table? = nil, text: [String] = [], json: JSONValue? = nil,
        sidecarExtra: [(String, JSONValue)] = [], failure: AttnError? = nil
    ) {
        self.command = command
        self.parameters = parameters
        self.seed = seed
        self.summary = summary
        self.table = table
        self.text = text
        self.json = json ?? .object(parameters + summary)
        self.sidecarExtra = sidecarExtra
        self.failure = failure
    }
}
