import AttnCore

/// Comma-separated list flags ("256,1024", "2^8,2^10", "uniform,signs").
enum ListArgument {
    static func parse<T>(_ text: String, flag: String, _ item: (String) -> T?) throws -> [T] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.isEmpty, !parts.contains(where: \.isEmpty) else { throw AttnError.usage("\(flag) \(text): empty item in list") }
        return try parts.map { p in
            guard let v = item(p) else { throw AttnError.usage("\(flag): cannot read '\(p)'") }
            return v
        }
    }

    /// A size: "4096" or "2^12" (exponent ≤ 40).
    static func size(_ s: String) -> Int? {
        if let i = Int(s) { return i }
        let p = s.split(separator: "^")
        guard p.count == 2, p[0] == "2", let k = Int(p[1]), (0...40).contains(k) else { return nil }
        return 1 << k
    }
}
