import AttnCore
import Testing

/// RunReport: the default JSON is the parameters then the summary, and a table is RFC 4180.
struct RunReportTests {
    @Test func defaultJSONIsParametersThenSummary() {
        let r = RunReport(command: "demo", parameters: [("n", 4)], summary: [("max_abs_error", 0.5)])
        #expect(r.json.serialized() == #"{"n":4,"max_abs_error":0.5}"#)
        let custom = RunReport(command: "demo", parameters: [("n", 4)], json: .object([("x", true)]))
        #expect(custom.json.serialized() == #"{"x":true}"#)
        #expect(r.failure == nil && r.table == nil)
    }

    @Test func tableIsOneHeaderRowThenOneRowPerPoint() {
        let t = RunReport.Table(header: ["n", "note"], rows: [["1", "a,b"], ["2", "c"]])
        #expect(t.csv == "n,note\n1,\"a,b\"\n2,c\n")
    }
}
