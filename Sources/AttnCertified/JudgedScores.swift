import AttnCore

/// A broadcast view of a float or boolean array over `[batch, heads, n_q, n_k]` (PyTorch's
/// `attn_mask` rule: shapes are aligned on the right, every axis is 1 or the full size).
/// Immutable once built.
package struct BroadcastArray<Element: Sendable>: Sendable {
    package let values: [Element]
    /// Strides of (batch, head, row, key); 0 on a broadcast axis.
    let strides: (Int, Int, Int, Int)

    /// - Parameters:
    ///   - values: row-major storage of an array of shape `dims` (1 to 4 axes, aligned on the right).
    ///   - dims: the array's shape.
    ///   - target: `[batch, heads, n_q, n_k]`.
    /// - Returns: nil if the shape does not broadcast to `target` or the counts disagree.
    package init?(values: [Element], dims: [Int], target: [Int]) {
        guard (1...4).contains(dims.count), target.count == 4, dims.reduce(1, *) == values.count else { return nil }
        let full = [Int](repeating: 1, count: 4 - dims.count) + dims
        var s = [0, 0, 0, 0], step = 1
        for a in (0..<4).reversed() {
            guard full[a] == target[a] || full[a] == 1 else { return nil }
            s[a] = full[a] == 1 ? 0 : step
            step *= full[a]
        }
        self.values = values
        strides = (s[0], s[1], s[2], s[3])
    }

    @inline(__always) package func offset(batch b: Int, head h: Int, row i: Int) -> Int {
        b * strides.0 + h * strides.1 + i * strides.2
    }
    /// The stride along the key axis (0 when the array does not vary with the key).
    @inline(__always) package var keyStride: Int { strides.3 }
}

/// The score model as the judge reads it (Proofs/certified-score-model.md):
///
///   score_ij = softcap_c(s·⟨q_i, k_j⟩) + bias_ij − slope_h·|i′ − j|,   i′ = i + offset,
///
/// key j visible to row i iff `i′ − left ≤ j ≤ i′ + right` (either side unbounded) and the explicit
/// mask allows it; a per-head sink logit σ_h adds exp(σ_h) to the denominator and has no value row.
/// Every number here is the exact value of a double, so the GMP/MPFR engine encloses the exact
/// scores. A row with no visible key is defined as output 0 and LSE −∞.
///
/// The judge keeps its own prepared copy (flat per-head arrays, broadcast strides) so that it never
/// imports the kernels it certifies. Immutable once built.
package struct JudgedScores: Sendable {
    package let batch: Int, headsQ: Int, nq: Int, nk: Int
    /// i′ − i: n_k − n_q (bottom-right, the default) or 0 (top-left).
    package var offset: Int
    /// Window sides in keys; nil = unbounded. Causal is (nil, 0).
    package var left: Int?, right: Int?
    package var mask: BroadcastArray<Bool>?
    package var bias: BroadcastArray<Double>?
    /// ALiBi slopes per query head (within a batch entry) or per (batch, head), flat.
    package var slopes: [Double]?
    /// c > 0.
    package var softcap: Double?
    /// σ_h per query head, natural-log units.
    package var sinks: [Double]?

    /// No mask, no terms (the plain problem), bottom-right alignment.
    package init(shape: AttentionShape) {
        (batch, headsQ, nq, nk) = (shape.batch, shape.headsQ, shape.nq, shape.nk)
        offset = shape.nk - shape.nq
    }

    /// The plain problem, or bottom-right causal (attnbound's `causal: Bool` of old).
    package init(shape: AttentionShape, causal: Bool) {
        self.init(shape: shape)
        if causal { right = 0 }
    }

    /// Whether any score term (softcap, bias, ALiBi, sinks) is present: then the GMP/MPFR engine
    /// encloses scores one by one (the plain path subtracts exact integer dot products).
    package var hasTerms: Bool { softcap != nil || bias != nil || slopes != nil || sinks != nil }

    /// The keys `lo...hi` that the alignment and window allow to row i (clipped to the keys);
    /// nil when none. The explicit mask may hide some of them.
    @inline(__always) package func keyRange(row i: Int) -> ClosedRange<Int>? {
        let diag = i + offset
        let lo = left.map { max(0, diag - $0) } ?? 0
        let hi = right.map { min(nk - 1, diag + $0) } ?? nk - 1
        return lo <= hi ? lo...hi : nil
    }

    /// (batch, head within the batch) of flat query head f.
    @inline(__always) func location(_ f: Int) -> (Int, Int) { (f / headsQ, f % headsQ) }

    /// The visible keys of row i of flat head f, in increasing order, appended to `keys` (cleared first).
    package func visibleKeys(head f: Int, row i: Int, into keys: inout [Int]) {
        keys.removeAll(keepingCapacity: true)
        guard let r = keyRange(row: i) else { return }
        guard let mask else { keys.append(contentsOf: r); return }
        let (b, h) = location(f)
        let o = mask.offset(batch: b, head: h, row: i), st = mask.keyStride
        for j in r where mask.values[o + j * st] { keys.append(j) }
    }

    /// bias_ij of flat head f (0 without a bias).
    @inline(__always) package func bias(head f: Int, row i: Int, key j: Int) -> Double {
        guard let bias else { return 0 }
        let (b, h) = location(f)
        return bias.values[bias.offset(batch: b, head: h, row: i) + j * bias.keyStride]
    }

    /// slope of flat head f (0 without ALiBi).
    @inline(__always) package func slope(head f: Int) -> Double {
        guard let slopes else { return 0 }
        return slopes.count == headsQ ? slopes[f % headsQ] : slopes[f]
    }

    /// σ of flat head f, or nil.
    @inline(__always) package func sink(head f: Int) -> Double? { sinks.map { $0[f % headsQ] } }

    /// |i′ − j|, the ALiBi distance.
    @inline(__always) package func distance(row i: Int, key j: Int) -> Int { abs(i + offset - j) }
}
