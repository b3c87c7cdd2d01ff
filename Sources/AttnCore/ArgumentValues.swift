/// A size as users write it: "4096" or "2^12" (exponent ≤ 40).
public struct Size: Sendable, Equatable {
    public let value: Int
    public init?(parsing text: String) {
        let p = text.split(separator: "^"), k = p.count == 2 && p[0] == "2" ? Int(p[1]) : nil
        guard let v = Int(text) ?? k.flatMap({ (0...40).contains($0) ? 1 << $0 : nil }) else { return nil }
        value = v
    }
}

/// "START:END" with 0 ≤ START < END: a half-open range of tokens or heads.
public struct HalfOpenRange: Sendable, Equatable {
    public let range: Range<Int>
    public init?(parsing text: String) {
        let p = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard p.count == 2, let a = p[0], let b = p[1], a >= 0, a < b else { return nil }
        range = a..<b
    }
}
