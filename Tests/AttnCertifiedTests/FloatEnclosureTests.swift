import AttnCertified
import AttnCore
import PropertyBased
import Testing

/// The float engine's enclosure [ô − e, ô + e] against the GMP/MPFR engine
/// (Proofs/float-certified-engine.md, "Tests").
@Suite("Float engine: enclosures contain the truth")
struct FloatEnclosureTests {
    /// A problem family: the regime in which each part of the bound is tight or stressed.
    enum Regime: Int, CaseIterable {
        case plain, hugeScores, nearTie, dominantKey, subnormalV, hugeV, cancellation, tinyQ
    }

    static func problem(
        _ regime: Regime, seed: UInt64, batch: Int, headsQ: Int, group: Int, nq: Int, nk: Int, d: Int, dv: Int
    )
        -> (Tensor<Double>, Tensor<Double>, Tensor<Double>)
    {
        var g = Xoshiro256StarStar(seed: seed)
        let hkv = headsQ / group
        func t(_ h: Int, _ r: Int, _ c: Int, _ f: (inout Xoshiro256StarStar, Int) -> Double) -> Tensor<Double> {
            let s = (0..<batch * h * r * c).map { f(&g, $0) }
            return Tensor(
                heads: batch * h, rows: r, cols: c, storage: s, logicalRank: 4, batch: batch, headsPerBatch: h)
        }
        let f32 = { (x: Double) in Double(Float(x)) }
        var qScale = 1.0, kScale = 1.0
        switch regime {
        case .hugeScores: qScale = 100; kScale = 100 * Double(d).squareRoot()  // scores ~ ±1e4 and beyond
        case .tinyQ: qScale = 1e-160
        default: break
        }
        let q = t(headsQ, nq, d) { r, _ in f32(r.uniform(-1, 1) * qScale) }
        var k = t(hkv, nk, d) { r, _ in f32(r.uniform(-1, 1) * kScale) }
        if regime == .nearTie {  // every key equal up to one float32 ulp: weights nearly uniform
            k = t(hkv, nk, d) { r, i in f32(0.5 + (i % d == 0 ? r.uniform(0, 1) * 0x1p-22 : 0)) }
        }
        if regime == .dominantKey {  // key 0 dwarfs the rest: one weight ≈ 1, others underflow
            k = t(hkv, nk, d) { r, i in (i / d) % nk == 0 ? 300 : f32(r.uniform(-1, 1)) }
        }
        let v = t(hkv, nk, dv) { r, _ in
            switch regime {
            case .subnormalV: return r.uniform(-1, 1) * 0x1p-1060
            case .hugeV: return f32(r.uniform(-1, 1)) * 0x1p1000
            case .cancellation: return (r.uniform(0, 1) < 0.5 ? 1e8 : -1e8) + f32(r.uniform(-1, 1))
            default: return f32(r.uniform(-1, 1))
            }
        }
        return (q, k, v)
    }

    /// Checks ô − e ≤ GMP midpoint ≤ ô + e and that the intervals intersect, entrywise.
    static func check(
        _ q: Tensor<Double>, _ k: Tensor<Double>, _ v: Tensor<Double>, causal: Bool, scale: Scale,
        label: String
    ) throws -> (maxRadius: Double, finite: Int) {
        let engine = try FloatAttentionEngine(q: q, k: k, v: v, scale: scale, scoreModel: causal ? .causal() : .plain)
        let shape = engine.shape
        var rows: [(head: Int, row: Int)] = []
        for f in 0..<shape.flatHeads { for i in 0..<shape.nq { rows.append((f, i)) } }
        let exact = try CertifiedAttention.encloseRows(
            q: q, k: k, v: v, scale: scale, scoreModel: causal ? .causal() : .plain, precision: 128, rows: rows)
        let ws = engine.makeWorkspace()
        var mid = [Double](repeating: 0, count: engine.rowsPerBlock * shape.dv), rad = mid
        var worst = 0.0, finite = 0
        for f in 0..<shape.flatHeads {
            var i0 = 0
            while i0 < shape.nq {
                let count = min(engine.rowsPerBlock, shape.nq - i0)
                engine.enclose(head: f, rows: i0, count: count, workspace: ws, mid: &mid, radius: &rad)
                for r in 0..<count {
                    for c in 0..<shape.dv {
                        let (o, e) = (mid[r * shape.dv + c], rad[r * shape.dv + c])
                        let x = exact[f * shape.nq + i0 + r]
                        let m = x.lo[c] / 2 + x.hi[c] / 2
                        #expect(e >= 0, "\(label)")
                        if e.isFinite {
                            finite += 1
                            worst = max(worst, e)
                            #expect(
                                o - e <= m && m <= o + e,
                                "\(label): head \(f) row \(i0 + r) col \(c): ô \(o) e \(e) truth \(m)")
                            #expect(o - e <= x.hi[c] && x.lo[c] <= o + e)
                        }
                    }
                }
                i0 += count
            }
        }
        return (worst, finite)
    }

    @Test(
        "the enclosure contains the GMP truth over random shapes, magnitudes, causal masks, GQA and 4-D",
        arguments: Regime.allCases)
    func containsTruth(_ regime: Regime) async {
        await propertyCheck(
            count: 6,
            input: zip(
                Gen.int(in: 0...Int.max), Gen.int(in: 1...2), Gen.int(in: 1...2),
                Gen.int(in: 1...70), Gen.int(in: 1...90)), Gen.int(in: 1...9)
        ) { p, d in
            let (seed, batch, group, nq0, nk) = p
            let causal = seed % 2 == 0
            let nq = causal ? min(nq0, nk) : nq0
            let (q, k, v) = Self.problem(
                regime, seed: UInt64(seed), batch: batch, headsQ: 2 * group, group: group,
                nq: nq, nk: nk, d: d, dv: 3)
            let scale: Scale = seed % 3 == 0 ? .paper : seed % 3 == 1 ? .standard : .decimal("0.37")
            let (worst, finite) = try! Self.check(
                q, k, v, causal: causal, scale: scale, label: "\(regime) seed \(seed)")
            // The engine decides (finite e) everywhere except where its premises fail: huge V overflows.
            if regime != .hugeV { #expect(finite == batch * 2 * group * nq * 3, "\(regime): some rows undecided") }
            if regime == .plain { #expect(worst < 1e-11) }
        }
    }

    @Test("scores far beyond ±1e4 make rows undecided, never wrong")
    func astronomicalScores() throws {
        let q = Tensor<Double>(rows: 2, cols: 2, storage: [1e150, 1e150, -1e150, 3e149])
        let k = Tensor<Double>(rows: 3, cols: 2, storage: [1e150, 0, 0, 1e150, -1e150, 1])
        let v = Tensor<Double>(rows: 3, cols: 1, storage: [1, 2, 3])
        _ = try Self.check(q, k, v, causal: false, scale: .standard, label: "1e300 scores")
    }
}

/// Block masks (FlexAttention-style 64-key tiles): the tiles no row of a block sees are never multiplied
/// (`FloatAttentionEngine.enclose`), and the enclosure still contains GMP's, with and without score terms.
@Suite("Float engine: fully masked tiles are skipped")
struct FloatEnclosureBlockMaskTests {
    @Test("a block mask with dead tiles between live ones, a fully masked row, and terms", arguments: [false, true])
    func blockMaskContainsExact(terms: Bool) throws {
        var g = Xoshiro256StarStar(seed: terms ? 7 : 8)
        let (nq, nk, d, dv) = (40, 300, 8, 3)
        func t(_ r: Int, _ c: Int) -> Tensor<Double> {
            Tensor(rows: r, cols: c, storage: (0..<r * c).map { _ in Double(Float(g.uniform(-2, 2))) })
        }
        let q = t(nq, d), k = t(nk, d), v = t(nk, dv)
        // Tile t of key j is j / 64; row i sees tile t iff (t + i / 16) is even, never tile 2, and row 5 sees nothing.
        let vals = (0..<nq * nk).map { x -> Bool in
            let (i, j) = (x / nk, x % nk), tile = j / 64
            return i != 5 && tile != 2 && (tile + i / 16) % 2 == 0
        }
        let mask = try ScoreGrid(shape: [nq, nk], values: vals, parameter: .mask)
        let model = try ScoreModel(
            mask: AttentionMask(explicit: mask), softcap: terms ? 4 : nil,
            sinks: terms ? try .perHead([0.5], parameter: .sinks) : nil)
        let exact = try CertifiedAttention.encloseRows(
            q: q, k: k, v: v, scale: .standard, scoreModel: model, precision: 128, rows: (0..<nq).map { (0, $0) })
        let engine = try FloatAttentionEngine(q: q, k: k, v: v, scale: .standard, scoreModel: model)
        let ws = engine.makeWorkspace()
        var mid = [Double](repeating: 0, count: nq * dv), rad = mid
        engine.enclose(head: 0, rows: 0, count: nq, workspace: ws, mid: &mid, radius: &rad)
        for i in 0..<nq {
            let x = exact[i]
            #expect(ws.masked[i] == x.masked && x.masked == (i == 5), "row \(i)")
            for c in 0..<dv {
                let (o, e) = (mid[i * dv + c], rad[i * dv + c])
                #expect(e.isFinite && e < 1e-12, "row \(i): e = \(e)")
                #expect(
                    o - e <= x.lo[c] && x.hi[c] <= o + e,
                    "row \(i) col \(c): ô \(o) e \(e) GMP [\(x.lo[c]), \(x.hi[c])]")
            }
            #expect(ws.lseLo[i] <= x.lse.lo && x.lse.hi <= ws.lseHi[i], "row \(i): LSE")
        }
    }
}
