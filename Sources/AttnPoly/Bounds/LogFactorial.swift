/// Enclosures of ln k! (Robbins 1955):
/// k! = √(2πk)·(k/e)ᵏ·e^{r_k} with 1/(12k+1) < r_k < 1/(12k) for k ≥ 1.
///
/// Exact (point) values for k ≤ 18, where k! < 2⁵³.
enum LogFactorial {
    static let twoPi = OutwardInterval((2 * Double.pi).nextDown, (2 * Double.pi).nextUp)

    static func enclosure(_ k: Int) -> OutwardInterval {
        precondition(k >= 0)
        if k <= 18 {
            var f = 1.0
            if k >= 2 { for j in 2...k { f *= Double(j) } }  // exact: k! < 2⁵³
            return OutwardInterval(exactly: f).log
        }
        let kk = OutwardInterval(k)
        let lk = kk.log
        let main = kk * lk - kk + OutwardInterval(exactly: 0.5) * (twoPi.log + lk)
        let one = OutwardInterval(exactly: 1)
        let rk = OutwardInterval((one / OutwardInterval(12 * k + 1)).lo, (one / OutwardInterval(12 * k)).hi)
        return main + rk
    }
}
