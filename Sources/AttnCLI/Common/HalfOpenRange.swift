import ArgumentParser

/// "START:END" with 0 ≤ START < END: a half-open range of tokens or heads (`--vision`, `--heads`).
struct HalfOpenRange: ExpressibleByArgument {
    let range: Range<Int>

    init?(argument: String) {
        let p = argument.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard p.count == 2, let a = p[0], let b = p[1], a >= 0, a < b else { return nil }
        range = a..<b
    }
}
