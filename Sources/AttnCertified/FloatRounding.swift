import AttnCore

/// Directed bounds from round-to-nearest arithmetic (Proofs/float-certified-engine.md, §1).
///
/// Lemma U: if ŷ = RN(y) for a real y (no overflow), then ŷ.nextUp ≥ y and
/// ŷ.nextDown ≤ y, subnormal range included: RN returns one of the two
/// doubles adjacent to y, so stepping one further away passes y. Every
/// operation below is one correctly rounded IEEE operation followed by such a step.
package enum Directed {
    package static let u = 0x1p-53

    @inline(__always) package static func add(_ a: Double, _ b: Double) -> Double { (a + b).nextUp }
    @inline(__always) package static func mul(_ a: Double, _ b: Double) -> Double { (a * b).nextUp }
    @inline(__always) package static func div(_ a: Double, _ b: Double) -> Double { (a / b).nextUp }
    @inline(__always) package static func subDown(_ a: Double, _ b: Double) -> Double { (a - b).nextDown }
    @inline(__always) package static func mulDown(_ a: Double, _ b: Double) -> Double { (a * b).nextDown }
    @inline(__always) package static func divDown(_ a: Double, _ b: Double) -> Double { (a / b).nextDown }
    @inline(__always) package static func addDown(_ a: Double, _ b: Double) -> Double { (a + b).nextDown }

    /// An upper bound on γ_k = k·u/(1 − k·u): the package's one `Rounding.gamma`
    /// (Proofs/rounding-gamma.md), made +∞ already when k·u ≥ 1/2 so that 1 − γ_k stays positive.
    package static func gamma(_ k: Int) -> Double {
        guard Double(k) * u < 0.5 else { return .infinity }
        return AttnCore.Rounding.gamma(k, unitRoundoff: u)  // qualified: AttnCertified has its own MPFR `Rounding`
    }

    /// An upper bound on ‖x‖₂ over `count` doubles (§2 of the proof):
    /// fl(Σx²) ≥ (1 − γ_n)Σx² − n·2⁻¹⁰⁷⁵, so ‖x‖₂ ≤ √((fl(Σx²) + n·2⁻¹⁰⁷⁴)/(1 − γ_n)), each step rounded up.
    package static func norm2(_ x: UnsafePointer<Double>, count n: Int) -> Double {
        var s = 0.0
        for i in 0..<n { s += x[i] * x[i] }
        let padded = add(s, Double(n) * 0x1p-1074)
        let scaled = div(padded, subDown(1, gamma(n)))
        return scaled.squareRoot().nextUp  // √ is correctly rounded too
    }
}
