/// Parsers of the compact spellings that front ends accept for sizes and ranges (the CLI's `--n 2^12`,
/// `--heads 0:4`): one definition, so that every front end reads them alike.
public enum ArgumentText {
    /// "4096" or "2^12" (exponent 0…40); nil for anything else.
    public static func size(_ text: String) -> Int? {
        let p = text.split(separator: "^"), k = p.count == 2 && p[0] == "2" ? Int(p[1]) : nil
        return Int(text) ?? k.flatMap { (0...40).contains($0) ? 1 << $0 : nil }
    }

    /// "START:END" with 0 ≤ START < END, a half-open range; nil for anything else.
    public static func halfOpenRange(_ text: String) -> Range<Int>? {
        let p = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard p.count == 2, let a = p[0], let b = p[1], a >= 0, a < b else { return nil }
        return a..<b
    }
}
