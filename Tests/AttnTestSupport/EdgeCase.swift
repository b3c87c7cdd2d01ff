import AttnCore
import Foundation
import PropertyBased

extension EdgeCase {
    /// Random cases over every family: small shapes (n ≤ 6, or one key tile more for `tileMaxJump`).
    public static func generator(families: [EdgeFamily] = EdgeFamily.allCases)
        -> Generator<EdgeCase, some SendableSequenceType>
    {
        zip(
            Gen.element(of: families), Gen.int(in: 1...4), Gen.int(in: 1...6), Gen.int(in: 1...4),
            Gen.int(in: 1...3), Gen.int(in: 0...Int(Int32.max))
        )
        .map { f, nq, nk, d, dv, seed in
            EdgeCase(family: f ?? .prescaledUnderflow, nq: nq, nk: nk, d: d, dv: dv, seed: UInt64(seed))
        }
    }
}
