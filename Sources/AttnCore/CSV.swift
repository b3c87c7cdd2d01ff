import Foundation

/// RFC 4180 CSV rows (AttnKit.docc/Conventions.md, "CSV"): comma separated, CRLF-free
/// (LF line ends, as every CSV reader accepts), fields quoted only when needed.
public enum CSV {
    /// One field, quoted if it holds a comma, quote, CR or LF.
    public static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One row with its line end.
    public static func row(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\n"
    }

    /// A double in shortest round-trip form.
    public static func number(_ x: Double) -> String { formatShortest(x) }

    /// Splits one RFC 4180 record (no embedded newlines expected in our files).
    public static func parseRow(_ line: Substring) -> [String] {
        var out: [String] = [], cur = "", inQuotes = false
        var it = line.makeIterator()
        while let c = it.next() {
            if inQuotes {
                if c == "\"" {
                    if let n = it.next() {
                        if n == "\"" {
                            cur.append("\"")
                        } else {
                            inQuotes = false; if n == "," { out.append(cur); cur = "" } else { cur.append(n) }
                        }
                    } else {
                        inQuotes = false
                    }
                } else {
                    cur.append(c)
                }
            } else if c == "\"" {
                inQuotes = true
            } else if c == "," {
                out.append(cur); cur = ""
            } else {
                cur.append(c)
            }
        }
        out.append(cur)
        return out
    }
}
