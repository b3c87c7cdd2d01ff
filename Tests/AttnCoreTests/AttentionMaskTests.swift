import AttnCore
import PropertyBased
import Testing

/// `MaskAlignment`, `AttentionWindow` and `AttentionMask`: each visible range checked against the
/// definition written out key by key (i′ − L ≤ j ≤ i′ + R), at the edges and over random shapes.
@Suite struct AttentionMaskTests {
    /// The definition, one key at a time, with unbounded sides as nil.
    static func visibleByDefinition(
        row i: Int, queries nq: Int, keys nk: Int, _ w: AttentionWindow?, _ a: MaskAlignment
    )
        -> [Int]
    {
        let di = i + (a == .bottomRight ? nk - nq : 0)
        return (0..<nk).filter { j in
            guard let w else { return true }
            return (w.left.map { di - $0 <= j } ?? true) && (w.right.map { j <= di + $0 } ?? true)
        }
    }

    @Test("the aligned diagonal: bottom-right i + n_k − n_q, top-left i")
    func alignment() {
        #expect(MaskAlignment.bottomRight.diagonal(row: 0, queries: 2, keys: 5) == 3)
        #expect(MaskAlignment.topLeft.diagonal(row: 1, queries: 2, keys: 5) == 1)
        #expect(MaskAlignment(rawValue: "bottom-right") == .bottomRight)
        #expect(MaskAlignment(rawValue: "top-left") == .topLeft)
    }

    @Test("causal, PyTorch's is_causal (top-left) and FlashAttention's (bottom-right), n_q = 2, n_k = 4")
    func causalBothAlignments() {
        let tl = AttentionMask.causal(.topLeft), br = AttentionMask.causal()
        #expect(tl.visibleKeys(row: 0, queries: 2, keys: 4) == 0..<1)
        #expect(tl.visibleKeys(row: 1, queries: 2, keys: 4) == 0..<2)
        #expect(br.visibleKeys(row: 0, queries: 2, keys: 4) == 0..<3)
        #expect(br.visibleKeys(row: 1, queries: 2, keys: 4) == 0..<4)
        #expect(br.isCausal && tl.isCausal && !AttentionMask.none.isCausal && AttentionMask.none.isNone)
    }

    @Test("bottom-right causal with n_q > n_k: the first n_q − n_k rows see no key")
    func fullyMaskedRows() {
        let m = AttentionMask.causal()
        for i in 0..<5 { #expect(m.visibleKeys(row: i, queries: 7, keys: 2).isEmpty == (i < 5)) }
        #expect(m.visibleKeys(row: 6, queries: 7, keys: 2) == 0..<2)
        #expect(m.windowEmptiesRows(queries: 7, keys: 2))
        #expect(!m.windowEmptiesRows(queries: 2, keys: 7))
        #expect(!AttentionMask.causal(.topLeft).windowEmptiesRows(queries: 7, keys: 2))
    }

    @Test("window edges: (L, R) = (1, 0) is the diagonal and its left neighbour; (0, 0) the diagonal alone")
    func windowEdges() throws {
        let m = AttentionMask(alignment: .topLeft, window: try AttentionWindow(left: 1, right: 0))
        #expect(m.visibleKeys(row: 0, queries: 4, keys: 4) == 0..<1)
        #expect(m.visibleKeys(row: 3, queries: 4, keys: 4) == 2..<4)
        let d = AttentionMask(window: try AttentionWindow(left: 0, right: 0))
        #expect(d.visibleKeys(row: 1, queries: 3, keys: 6) == 4..<5)
        // Left-bounded only: rows see their diagonal and everything after it.
        let r = AttentionMask(window: try AttentionWindow(left: 0, right: nil))
        #expect(r.visibleKeys(row: 0, queries: 2, keys: 5) == 3..<5)
        // Top-left, n_q > n_k, left window 0: rows past the last key see nothing.
        let past = AttentionMask(alignment: .topLeft, window: try AttentionWindow(left: 0, right: 2))
        #expect(past.visibleKeys(row: 5, queries: 6, keys: 3).isEmpty)
        #expect(past.windowEmptiesRows(queries: 6, keys: 3))
    }

    @Test("a negative window bound is a usage error naming the window")
    func negativeWindow() {
        #expect(throws: AttnError.self) { try AttentionWindow(left: -1, right: 0) }
        do {
            _ = try AttentionWindow(left: 0, right: -3)
        } catch let e as AttnError {
            #expect(e.kind == .usage && e.parameter == .window)
        } catch { Issue.record("\(error)") }
    }

    @Test("huge bounds never overflow: Int.max behaves as unbounded")
    func hugeBounds() throws {
        let w = try AttentionWindow(left: Int.max, right: Int.max)
        for a in MaskAlignment.allCases {
            let m = AttentionMask(alignment: a, window: w)
            #expect(m.visibleKeys(row: 0, queries: 3, keys: 9) == 0..<9)
            #expect(m.visibleKeys(row: 8, queries: 9, keys: 3) == 0..<3)
        }
        #expect(w.description == "\(Int.max),\(Int.max)")
        #expect(AttentionWindow.causal.description == "inf,0")
    }

    @Test("visibleKeys equals the definition key by key (random windows, shapes, alignments)")
    func visibleKeysMatchesDefinition() async {
        let bound = Gen.int(in: -1...6)
        await propertyCheck(
            input: Gen.int(in: 0...9), Gen.int(in: 0...9), bound, bound, Gen.bool(), Gen.bool()
        ) { nq, nk, l, r, topLeft, windowed in
            let a: MaskAlignment = topLeft ? .topLeft : .bottomRight
            let w = windowed ? try! AttentionWindow(left: l < 0 ? nil : l, right: r < 0 ? nil : r) : nil
            let m = AttentionMask(alignment: a, window: w)
            var anyEmpty = false
            for i in 0..<nq {
                let want = Self.visibleByDefinition(row: i, queries: nq, keys: nk, w, a)
                #expect(
                    Array(m.visibleKeys(row: i, queries: nq, keys: nk)) == want,
                    "row \(i) of \(nq)×\(nk) \(a) \(String(describing: w))")
                for j in 0..<nk {
                    #expect(m.isVisible(batch: 0, head: 0, row: i, col: j, queries: nq, keys: nk) == want.contains(j))
                }
                anyEmpty = anyEmpty || want.isEmpty
            }
            #expect(m.windowEmptiesRows(queries: nq, keys: nk) == anyEmpty, "\(nq)×\(nk) \(a) \(String(describing: w))")
        }
    }

    @Test("an explicit mask intersects the window")
    func explicitIntersectsWindow() throws {
        // [n_q, n_k] = [2, 3]: row 0 hides key 0, row 1 hides key 2.
        let e = try ScoreGrid(shape: [2, 3], values: [false, true, true, true, true, false], parameter: .mask)
        let m = AttentionMask(alignment: .bottomRight, window: .causal, explicit: e)
        let seen = (0..<2).map { i in
            (0..<3).filter { m.isVisible(batch: 0, head: 0, row: i, col: $0, queries: 2, keys: 3) }
        }
        #expect(seen == [[1], [0, 1]])
        #expect(!m.isCausal && !m.isNone)
    }
}
