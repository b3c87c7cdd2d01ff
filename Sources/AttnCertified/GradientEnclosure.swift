import AttnCore
import CLapack
import Foundation
import Synchronization

/// Which gradient of attention: the tensors the backward pass returns.
public enum GradientName: String, Sendable, CaseIterable, Comparable {
    case dq, dk, dv
    public static func < (a: GradientName, b: GradientName) -> Bool { a.index < b.index }
    var index: Int { GradientName.allCases.firstIndex(of: self)! }
}

/// Certified enclosures of the gradients dQ, dK, dV of attention given dO, entry by entry:
/// lo ≤ exact gradient ≤ hi (Proofs/backward-error.md, "The certified engines"; definitions as in
/// AttnKernels' `AttentionGradients`, recomputed here without it: the judge is independent).
package struct GradientEnclosures: Sendable {
    package var lo: [GradientName: Tensor<Double>]
    package var hi: [GradientName: Tensor<Double>]
}

/// The float engine of the backward pass: Float64 with BLAS (§0 of Proofs/float-certified-engine.md),
/// FloatExp, and the a-posteriori radius of `GradientErrorModel` evaluated in directed rounding.
///
/// One pass over row blocks of each query head: scores ĝ = fl(Q_blk·Kᵀ) and dP̂ = fl(dO_blk·Vᵀ) for all
/// keys (a block × n_k buffer, never n × n), the weights ŵ = FloatExp's exp(fl(fl(ŝĝ) − m̂)), l̂ and
/// Ê = Σŵ·dP̂ left to right, D̂ = Ê·fl(1/l̂), P̂ = ŵ·fl(1/l̂), dŜ = P̂·(dP̂ − D̂); then dQ_blk = ŝ·dŜ·K and
/// the block's dK += dŜᵀQ_blk, dV += P̂ᵀdO_blk into its chunk's partial (chunks fixed by the shape).
package enum FloatGradientEngine {
    /// - Precondition: shapes checked (`AttentionShape`), inputs and dO finite.
    package static func enclose(
        q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, dO: Tensor<Double>, shape: AttentionShape,
        scale: Scale, mask: GradientMask, threads: Int?
    ) throws -> GradientEnclosures {
        let (nq, nk, d, dv) = (shape.nq, shape.nk, shape.d, shape.dv)
        let kvHeads = shape.batch * shape.headsKV
        let enclosure = try ScaleEnclosure(scale, d: d, precision: 64)
        let sLo = enclosure.lower.double(rounding: .down), sHi = enclosure.upper.double(rounding: .up)
        typealias D = Directed
        let cs = D.div(D.add(sHi, -sLo), sLo)
        let model = GradientErrorModel(
            u: D.u, eta: FloatExp.relativeErrorBound, tauW: 0x1p-1000, tau: 0x1p-1074, cs: cs,
            c0: D.mul(Double(d + 4), 0x1p-1000), d: d, dv: dv, nk: nk, bigN: shape.group * nq)
        let sPlus = D.mul(D.mul(sHi, D.add(1, D.u)), D.add(1, cs))
        // Per KV head: max‖k_j‖₂, max|k|, max_c Σ_j|k_jc|, max‖v_j‖₂, max|v|.
        var kNorm = [Double](repeating: 0, count: kvHeads), kInf = kNorm, kOne = kNorm, vNorm = kNorm, vInf = kNorm
        k.storage.withUnsafeBufferPointer { kb in
            v.storage.withUnsafeBufferPointer { vb in
                for h in 0..<kvHeads {
                    var col = [Double](repeating: 0, count: d)
                    for j in 0..<nk {
                        let kr = kb.baseAddress! + (h * nk + j) * d, vr = vb.baseAddress! + (h * nk + j) * dv
                        kNorm[h] = max(kNorm[h], D.norm2(kr, count: d))
                        vNorm[h] = max(vNorm[h], D.norm2(vr, count: dv))
                        for c in 0..<d { kInf[h] = max(kInf[h], abs(kr[c])); col[c] = D.add(col[c], abs(kr[c])) }
                        for c in 0..<dv { vInf[h] = max(vInf[h], abs(vr[c])) }
                    }
                    kOne[h] = col.max() ?? 0
                }
            }
        }
        let (kNormMax, kInfMax, kOneMax, vNormMax, vInfMax) = (kNorm, kInf, kOne, vNorm, vInf)
        let rowsPerBlock = max(1, min(256, (1 << 20) / max(nk, 1)))
        let blocks = (nq + rowsPerBlock - 1) / rowsPerBlock
        let units = shape.group * blocks  // (query head in the group, row block) per KV head
        var chunkCount = max(1, min(units, 16 / max(1, kvHeads)))
        while chunkCount > 1 && kvHeads * chunkCount * nk * (d + dv) * 8 > 1 << 28 { chunkCount /= 2 }
        let chunks = chunkCount
        let workers = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, kvHeads * chunks))
        // Owned buffers (workers write disjoint parts): dQ and its row radii, per-chunk dK/dV partials and radius weights.
        let bufQ = Buffer(shape.flatHeads * nq * d), bufQR = Buffer(shape.flatHeads * nq)
        let bufK = Buffer(kvHeads * chunks * nk * d), bufV = Buffer(kvHeads * chunks * nk * dv)
        let bufWK = Buffer(kvHeads * chunks * d), bufWV = Buffer(kvHeads * chunks * dv)
        let blasHolds = BLASAssumptions.hold
        if workers > 1 { openblas_set_num_threads(1) }
        q.storage.withUnsafeBufferPointer { qb in
            k.storage.withUnsafeBufferPointer { kb in
                v.storage.withUnsafeBufferPointer { vb in
                    dO.storage.withUnsafeBufferPointer { gb in
                        let out = Shared(
                            dq: bufQ.p, dqRad: bufQR.p, partK: bufK.p, partV: bufV.p, wK: bufWK.p, wV: bufWV.p,
                            q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, g: gb.baseAddress!)
                        let next = Atomic<Int>(0)
                        DispatchQueue.concurrentPerform(iterations: workers) { _ in
                            let sc = UnsafeMutablePointer<Double>.allocate(capacity: rowsPerBlock * nk)
                            let dp = UnsafeMutablePointer<Double>.allocate(capacity: rowsPerBlock * nk)
                            defer { sc.deallocate(); dp.deallocate() }
                            while true {
                                let job = next.add(1, ordering: .relaxed).oldValue
                                if job >= kvHeads * chunks { break }
                                let h = job / chunks, ch = job % chunks
                                for unit in ch * units / chunks..<(ch + 1) * units / chunks {
                                    let f = h * shape.group + unit / blocks, i0 = (unit % blocks) * rowsPerBlock
                                    let rows = min(rowsPerBlock, nq - i0)
                                    let cols = mask.union(rows: i0..<i0 + rows).1  // keys 0..<cols hold scores
                                    guard cols > 0 else { continue }
                                    let qBlk = out.q + (f * nq + i0) * d, gBlk = out.g + (f * nq + i0) * dv
                                    cblas_dgemm(
                                        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(cols), Int32(d), 1,
                                        qBlk, Int32(d), out.k + h * nk * d, Int32(d), 0, sc, Int32(nk))
                                    cblas_dgemm(
                                        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(cols), Int32(dv), 1,
                                        gBlk, Int32(dv), out.v + h * nk * dv, Int32(dv), 0, dp, Int32(nk))
                                    for r in 0..<rows {
                                        let i = i0 + r, row = f * nq + i
                                        let win = mask.window(i), seen = mask.count(head: f, row: i)
                                        let s = sc + r * nk, p = dp + r * nk
                                        guard seen > 0 else {
                                            for j in 0..<cols { s[j] = 0; p[j] = 0 }
                                            continue
                                        }
                                        // Hidden keys get a score deep in the tail (ŵ = 0, never the max).
                                        for j in 0..<cols
                                        where !win.contains(j) || !mask.visible(head: f, row: i, key: j) {
                                            s[j] = -1e300 / max(sLo, 1)
                                        }
                                        let m =
                                            sLo
                                            * FloatExp.rowMax(
                                                s + win.lowerBound, count: win.count, path: FloatExp.machinePath)
                                        var terms: GradientErrorModel.Row? = nil
                                        if m.isFinite {
                                            _ = FloatExp.weights(
                                                s, count: cols, visible: cols, scale: sLo, max: m,
                                                path: FloatExp.machinePath)
                                            var l = 0.0, e = 0.0
                                            for j in win { l += s[j]; e += s[j] * p[j] }
                                            let rInv = 1 / l, dRow = e * rInv
                                            for j in 0..<cols {
                                                let w = win.contains(j) ? s[j] * rInv : 0
                                                s[j] = w
                                                p[j] = w == 0 ? 0 : w * (p[j] - dRow)
                                            }
                                            let qn = D.norm2(qBlk + r * d, count: d)
                                            var o1 = 0.0
                                            for c in 0..<dv { o1 = D.add(o1, abs(gBlk[r * dv + c])) }
                                            let A = min(
                                                D.mul(D.norm2(gBlk + r * dv, count: dv), vNormMax[h]),
                                                D.mul(o1, vInfMax[h]))
                                            terms = model.row(M: D.mul(D.mul(sHi, qn), kNormMax[h]), n: seen, A: A)
                                        } else {
                                            for j in 0..<cols { s[j] = 0; p[j] = 0 }
                                        }
                                        let wk = out.wK + (h * chunks + ch) * d, wv = out.wV + (h * chunks + ch) * dv
                                        if let t = terms, blasHolds {
                                            out.dqRad[row] = model.dqRadius(
                                                t, sPlus: sPlus, kInf: kInfMax[h], kOne: kOneMax[h])
                                            let (a, b) = (model.dkWeight(t), model.dvWeight(t))
                                            for c in 0..<d { wk[c] = D.add(wk[c], D.mul(a, abs(qBlk[r * d + c]))) }
                                            for c in 0..<dv { wv[c] = D.add(wv[c], D.mul(b, abs(gBlk[r * dv + c]))) }
                                        } else {
                                            out.dqRad[row] = .infinity
                                            for c in 0..<d { wk[c] = .infinity }
                                            for c in 0..<dv { wv[c] = .infinity }
                                        }
                                    }
                                    let dqBlk = out.dq + (f * nq + i0) * d
                                    cblas_dgemm(
                                        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(d), Int32(cols),
                                        1,
                                        dp, Int32(nk), out.k + h * nk * d, Int32(d), 0, dqBlk, Int32(d))
                                    for x in 0..<rows * d { dqBlk[x] *= sLo }
                                    let pk = out.partK + (h * chunks + ch) * nk * d
                                    let pv = out.partV + (h * chunks + ch) * nk * dv
                                    cblas_dgemm(
                                        CblasRowMajor, CblasTrans, CblasNoTrans, Int32(cols), Int32(dv), Int32(rows), 1,
                                        sc, Int32(nk), gBlk, Int32(dv), 1, pv, Int32(dv))
                                    cblas_dgemm(
                                        CblasRowMajor, CblasTrans, CblasNoTrans, Int32(cols), Int32(d), Int32(rows), 1,
                                        dp, Int32(nk), qBlk, Int32(d), 1, pk, Int32(d))
                                }
                            }
                        }
                    }
                }
            }
        }
        // Chunks added in order; dK scaled once.
        var dkMid = [Double](repeating: 0, count: kvHeads * nk * d),
            dvMid = [Double](repeating: 0, count: kvHeads * nk * dv)
        var dkRad = [Double](repeating: 0, count: kvHeads * d), dvRad = [Double](repeating: 0, count: kvHeads * dv)
        for h in 0..<kvHeads {
            for x in 0..<nk * d {
                var acc = 0.0
                for ch in 0..<chunks { acc += bufK.p[(h * chunks + ch) * nk * d + x] }
                dkMid[h * nk * d + x] = sLo * acc
            }
            for x in 0..<nk * dv {
                var acc = 0.0
                for ch in 0..<chunks { acc += bufV.p[(h * chunks + ch) * nk * dv + x] }
                dvMid[h * nk * dv + x] = acc
            }
            for c in 0..<d {
                var w = 0.0
                for ch in 0..<chunks { w = D.add(w, bufWK.p[(h * chunks + ch) * d + c]) }
                dkRad[h * d + c] = D.add(D.mul(sPlus, w), model.dkFloor)
            }
            for c in 0..<dv {
                var w = 0.0
                for ch in 0..<chunks { w = D.add(w, bufWV.p[(h * chunks + ch) * dv + c]) }
                dvRad[h * dv + c] = D.add(w, model.dvFloor)
            }
        }
        func bounds(_ mid: [Double], _ like: Tensor<Double>, radius: (Int) -> Double) -> (
            Tensor<Double>, Tensor<Double>
        ) {
            var lo = like, hi = like
            lo.withUnsafeMutableBufferPointer { l in
                hi.withUnsafeMutableBufferPointer { u in
                    for x in mid.indices {
                        let r = blasHolds ? radius(x) : .infinity  // mutation-check: grad-float-e
                        l[x] = D.subDown(mid[x], r); u[x] = D.add(mid[x], r)
                        if !(l[x].isFinite && u[x].isFinite) { (l[x], u[x]) = (-.infinity, .infinity) }
                    }
                }
            }
            return (lo, hi)
        }
        let dqMid = Array(UnsafeBufferPointer(start: bufQ.p, count: bufQ.count))
        let (qlo, qhi) = bounds(dqMid, q) { bufQR.p[$0 / d] }
        let (klo, khi) = bounds(dkMid, k) { dkRad[($0 / (nk * d)) * d + $0 % d] }
        let (vlo, vhi) = bounds(dvMid, v) { dvRad[($0 / (nk * dv)) * dv + $0 % dv] }
        return GradientEnclosures(lo: [.dq: qlo, .dk: klo, .dv: vlo], hi: [.dq: qhi, .dk: khi, .dv: vhi])
    }

    /// A zeroed Double buffer freed with its owner.
    final class Buffer {
        let p: UnsafeMutablePointer<Double>, count: Int
        init(_ n: Int) { count = n; p = .allocate(capacity: max(n, 1)); p.initialize(repeating: 0, count: max(n, 1)) }
        deinit { p.deallocate() }
    }

    struct Shared: @unchecked Sendable {  // each job writes its own rows of dq and its own chunk's partials
        let dq: UnsafeMutablePointer<Double>, dqRad: UnsafeMutablePointer<Double>
        let partK: UnsafeMutablePointer<Double>, partV: UnsafeMutablePointer<Double>
        let wK: UnsafeMutablePointer<Double>, wV: UnsafeMutablePointer<Double>
        let q: UnsafePointer<Double>, k: UnsafePointer<Double>, v: UnsafePointer<Double>, g: UnsafePointer<Double>
    }
}

/// The keys each query row sees under a score model's mask (the judge's own copy: it uses no kernel):
/// the window's range, less what an explicit mask hides. Flat query head f is (f / heads, f % heads).
package struct GradientMask: Sendable {
    let mask: AttentionMask, nq: Int, nk: Int, heads: Int
    /// - Throws: `AttnError.usage` for a score term beyond the mask (its parameter), or a model that
    ///   does not fit the problem.
    package init(_ model: ScoreModel, _ shape: AttentionShape) throws {
        try model.validate(for: shape)
        try model.requireSupported([.leftWindow, .explicitMask], by: "the certified backward")
        (mask, nq, nk, heads) = (model.mask, shape.nq, shape.nk, shape.headsQ)
    }
    @inline(__always) func window(_ i: Int) -> Range<Int> { mask.visibleKeys(row: i, queries: nq, keys: nk) }
    @inline(__always) func visible(head f: Int, row i: Int, key j: Int) -> Bool {
        mask.explicit.map { $0[batch: f / heads, head: f % heads, row: i, col: j] } ?? true
    }
    func count(head f: Int, row i: Int) -> Int {
        let w = window(i)
        return mask.explicit == nil ? w.count : w.reduce(0) { $0 + (visible(head: f, row: i, key: $1) ? 1 : 0) }
    }
    /// [lo, hi): the union of the windows of `rows` (lo ≥ hi when all are empty).
    func union(rows: Range<Int>) -> (Int, Int) {
        var lo = nk, hi = 0
        for i in rows {
            let w = window(i)
            if !w.isEmpty { (lo, hi) = (min(lo, w.lowerBound), max(hi, w.upperBound)) }
        }
        return (lo, hi)
    }
}
