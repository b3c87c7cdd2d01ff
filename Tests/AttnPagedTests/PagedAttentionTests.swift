import AttnCore
import AttnPaged
import Foundation
import Testing

/// `PagedAttention.attend`: heads of a group with different pages (the masked-union path), and with one shared
/// list (the fused kernel's decode path, pages as key ranges).
@Suite("paged attention kernel")
struct PagedAttentionTests {
    /// Every head's output equals softmax attention over its own pages only (ReferenceAttention.decode in Double),
    /// with overlapping lists (group 0) and disjoint ones (group 1), both run as one masked union.
    @Test func groupHeadsWithDifferentPagesAttendOnlyTheirOwn() throws {
        var rng = Xoshiro256StarStar(seed: 21)
        let L = try KVLayout(kvHeads: 2, groupSize: 4, d: 16, dv: 8, pageSize: 8)
        let store = PagedKVStore(layout: L, capacity: nil)
        var keys: [[Float]] = [], values: [[Float]] = []  // per token, kvHeads × d and kvHeads × dv
        for _ in 0..<596 {  // 75 pages, the last partial; the union spans two score tiles of 512 tokens
            keys.append((0..<L.kvHeads * L.d).map { _ in Float(rng.uniform(-3, 3)) })
            values.append((0..<L.kvHeads * L.dv).map { _ in Float(rng.uniform(-1, 1)) })
            store.append(keys: keys.last!, values: values.last!)
        }
        let q = (0..<L.queryHeads * L.d).map { _ in Float(rng.uniform(-3, 3)) }
        let lists: [[Int]] = [
            [0, 3, 74], [3, 4, 74], [0, 4, 5, 70, 74], [5, 74],  // overlapping
            [0, 1, 74], [2, 3], [70, 71], [40, 41, 42],
        ]  // disjoint; head 6 masked on the whole first tile
        let (out, _) = PagedAttention.attend(
            store: store, queries: q, selection: PageSelection(pages: lists),
            scale: 0.25, threads: 2)
        for h in 0..<L.queryHeads {
            let kv = L.kvHead(ofQueryHead: h)
            let tokens = lists[h].flatMap { p in p * 8..<min(596, p * 8 + 8) }
            let scores = tokens.map { j in
                0.25 * (0..<L.d).reduce(0.0) { $0 + Double(q[h * L.d + $1]) * Double(keys[j][kv * L.d + $1]) }
            }
            let m = scores.max()!, w = scores.map { exp($0 - m) }, z = w.reduce(0, +)
            for c in 0..<L.dv {
                let exact = zip(tokens, w).reduce(0.0) { $0 + $1.1 * Double(values[$1.0][kv * L.dv + c]) } / z
                #expect(abs(Double(out[h * L.dv + c]) - exact) <= 1e-5, "head \(h)")
            }
        }
    }

    /// One list per group (the default of every policy): the fused kernel reads the pages as key ranges of the
    /// pool (adjacent slots merged, ranges past 256 keys cut into tiles, a partial last page). Its output is
    /// exact attention over those pages within 1e-5, and agrees with the accumulator path (asked for masses).
    @Test func sharedListsRunTheFusedKernelOverPageRanges() throws {
        var rng = Xoshiro256StarStar(seed: 22)
        let L = try KVLayout(kvHeads: 2, groupSize: 3, d: 24, dv: 8, pageSize: 16)
        let store = PagedKVStore(layout: L, capacity: nil)
        var keys: [[Float]] = [], values: [[Float]] = []
        for _ in 0..<1001 {  // 63 pages, the last one token
            keys.append((0..<L.kvHeads * L.d).map { _ in Float(rng.uniform(-2, 2)) })
            values.append((0..<L.kvHeads * L.dv).map { _ in Float(rng.uniform(-1, 1)) })
            store.append(keys: keys.last!, values: values.last!)
        }
        let q = (0..<L.queryHeads * L.d).map { _ in Float(rng.uniform(-2, 2)) }
        let perKV: [[Int]] = [Array(0..<40) + [45, 50, 62], [1, 3, 5, 7, 30, 31, 32, 62]]
        let selection = PageSelection(perKVHead: perKV, layout: L)
        let (fused, noMass) = PagedAttention.attend(store: store, queries: q, selection: selection, scale: 0.3)
        let (accumulated, mass) = PagedAttention.attend(
            store: store, queries: q, selection: selection, scale: 0.3, pageMass: true)
        #expect(noMass == nil && mass != nil)
        for h in 0..<L.queryHeads {
            let kv = L.kvHead(ofQueryHead: h)
            let tokens = perKV[kv].flatMap { p in p * 16..<min(1001, p * 16 + 16) }
            let scores = tokens.map { j in
                0.3 * (0..<L.d).reduce(0.0) { $0 + Double(q[h * L.d + $1]) * Double(keys[j][kv * L.d + $1]) }
            }
            let m = scores.max()!, w = scores.map { exp($0 - m) }, z = w.reduce(0, +)
            for c in 0..<L.dv {
                let exact = zip(tokens, w).reduce(0.0) { $0 + $1.1 * Double(values[$1.0][kv * L.dv + c]) } / z
                #expect(abs(Double(fused[h * L.dv + c]) - exact) <= 1e-5, "head \(h)")
                #expect(abs(fused[h * L.dv + c] - accumulated[h * L.dv + c]) <= 1e-5, "head \(h)")
            }
        }
    }
}
