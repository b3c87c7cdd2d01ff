import AttnCore
import Foundation

/// Everything one decode step produced.
public struct DecodeStepResult: Sendable {
    /// `queryHeads × dv` sparse outputs.
    public let output: [Float]
    public let selection: PageSelection
    /// The certified bound (nil when not requested).
    public let bound: SparseStepBound?
    /// Tier traffic of this step (evictions and recalls).
    public let traffic: TierCounters
    public let pagesScored: Int
    public let pagesScoringSkipped: Int
    /// Seconds: digest scoring, the whole policy decision (scoring, eviction, recall), attention, bound.
    public let scoringSeconds: Double
    public let selectSeconds: Double
    public let attendSeconds: Double
    public let boundSeconds: Double
    /// Seconds of the step (append, select, attend); the bound is not included.
    public var stepSeconds: Double { selectSeconds + attendSeconds + appendSeconds }
    public let appendSeconds: Double
}

/// Drives one sequence through prefill and decode steps with one policy.
///
/// A decode step appends the new token's key and value, lets the policy select
/// (evicting and recalling as it likes), attends the selection with the new
/// token's queries, and optionally certifies the step's error (`SparseBound`).
public final class PagedDecoder {
    public let store: PagedKVStore
    public private(set) var policy: any PagePolicy
    public let scale: Scale
    public let threads: Int
    let s: Double

    public init(
        layout: KVLayout, policy: any PagePolicy, scale: Scale,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        store = PagedKVStore(layout: layout, capacity: policy.capacity)
        self.policy = policy
        self.scale = scale
        self.threads = threads
        s = scale.value(d: layout.d)
    }

    /// Appends one token (`kvHeads × d` keys, `kvHeads × dv` values), making room first if needed.
    public func append(keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        if store.table.nextAppendOpensPage,
            (0..<store.layout.kvHeads).contains(where: { !store.table.hasRoom(head: $0) })
        {
            policy.makeRoom(store: store)
        }
        store.append(keys: keys, values: values)
    }

    /// Appends the prompt: rows `0..<count` of `keys` (`kvHeads × n × d`) and `values`,
    /// then lets the policy settle with the last prompt token's queries (`queryHeads × d`).
    public func prefill(keys: Tensor<Float>, values: Tensor<Float>, count: Int, lastQueries: [Float]) {
        let L = store.layout
        precondition(count <= keys.rows && keys.heads == L.kvHeads && values.heads == L.kvHeads)
        store.reserve(tokens: keys.rows)
        var k = [Float](repeating: 0, count: L.kvHeads * L.d), v = [Float](repeating: 0, count: L.kvHeads * L.dv)
        for i in 0..<count {
            Self.gatherRow(keys, i, into: &k)
            Self.gatherRow(values, i, into: &v)
            k.withUnsafeBufferPointer { kb in
                v.withUnsafeBufferPointer { vb in append(keys: kb.baseAddress!, values: vb.baseAddress!) }
            }
        }
        guard count > 0 else { return }
        policy.finishPrefill(store: store, queries: lastQueries)
        if policy.wantsPageMass {
            let sel = policy.select(store: store, queries: lastQueries).selection
            let mass = PagedAttention.attend(
                store: store, queries: lastQueries, selection: sel, scale: Float(s),
                pageMass: true, threads: threads
            ).mass!
            policy.observe(mass: mass)
        }
    }

    /// One decode step for the token at row `row` of `keys`/`values`, with `queries` (`queryHeads × d`).
    public func step(keys: Tensor<Float>, values: Tensor<Float>, row: Int, queries: [Float], certify: Bool)
        -> DecodeStepResult
    {
        let L = store.layout
        var k = [Float](repeating: 0, count: L.kvHeads * L.d), v = [Float](repeating: 0, count: L.kvHeads * L.dv)
        Self.gatherRow(keys, row, into: &k)
        Self.gatherRow(values, row, into: &v)
        return step(key: k, value: v, queries: queries, certify: certify)
    }

    /// One decode step: append (`kvHeads × d` key, `kvHeads × dv` value), select, attend, certify.
    public func step(key: [Float], value: [Float], queries: [Float], certify: Bool) -> DecodeStepResult {
        let before = store.counters
        let t0 = Timing.now()
        key.withUnsafeBufferPointer { kb in
            value.withUnsafeBufferPointer { vb in append(keys: kb.baseAddress!, values: vb.baseAddress!) }
        }
        let t1 = Timing.now()
        let decision = policy.select(store: store, queries: queries)
        let t2 = Timing.now()
        let (out, mass) = PagedAttention.attend(
            store: store, queries: queries, selection: decision.selection, scale: Float(s),
            pageMass: policy.wantsPageMass, threads: threads)
        let t3 = Timing.now()
        if let mass { policy.observe(mass: mass) }
        var bound: SparseStepBound?
        var t4 = t3
        if certify {
            bound = SparseBound.compute(
                store: store, queries: queries, selection: decision.selection, output: out, scale: s)
            t4 = Timing.now()
        }
        return DecodeStepResult(
            output: out, selection: decision.selection, bound: bound, traffic: store.counters - before,
            pagesScored: decision.pagesScored, pagesScoringSkipped: decision.pagesScoringSkipped,
            scoringSeconds: decision.scoringSeconds, selectSeconds: t2 - t1, attendSeconds: t3 - t2,
            boundSeconds: t4 - t3, appendSeconds: t1 - t0)
    }

    /// Row `i` of every head of a `heads × n × cols` tensor, head-major.
    static func gatherRow(_ t: Tensor<Float>, _ i: Int, into out: inout [Float]) {
        for h in 0..<t.heads {
            let o = t.offset(head: h, row: i)
            for c in 0..<t.cols { out[h * t.cols + c] = t.storage[o + c] }
        }
    }
}
