/// The physical page slots of one KV head: `slots × pageSize` key rows (d
/// columns) and value rows (dv columns), contiguous per slot, the way a GPU
/// pool holds them. Owns its memory; grows by doubling when unbounded.
///
/// Pointers handed out stay valid until the next `ensureSlots` call.
final class PagePool {
    let pageSize: Int
    let d: Int
    let dv: Int
    private(set) var slotCapacity = 0
    private(set) var keys: UnsafeMutablePointer<Float>
    private(set) var values: UnsafeMutablePointer<Float>

    init(pageSize: Int, d: Int, dv: Int, initialSlots: Int) {
        self.pageSize = pageSize
        self.d = d
        self.dv = dv
        keys = .allocate(capacity: 1)
        values = .allocate(capacity: 1)
        ensureSlots(max(1, initialSlots))
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Makes room for at least `n` slots, keeping the contents of existing ones.
    func ensureSlots(_ n: Int) {
        guard n > slotCapacity else { return }
        let newCap = max(n, 2 * slotCapacity)
        let nk = UnsafeMutablePointer<Float>.allocate(capacity: newCap * pageSize * d)
        let nv = UnsafeMutablePointer<Float>.allocate(capacity: newCap * pageSize * dv)
        if slotCapacity > 0 {
            nk.update(from: keys, count: slotCapacity * pageSize * d)
            nv.update(from: values, count: slotCapacity * pageSize * dv)
        }
        nk.advanced(by: slotCapacity * pageSize * d).initialize(
            repeating: 0, count: (newCap - slotCapacity) * pageSize * d)
        nv.advanced(by: slotCapacity * pageSize * dv).initialize(
            repeating: 0, count: (newCap - slotCapacity) * pageSize * dv)
        keys.deallocate()
        values.deallocate()
        keys = nk
        values = nv
        slotCapacity = newCap
    }

    @inline(__always) func keyRows(slot s: Int) -> UnsafeMutablePointer<Float> { keys + s * pageSize * d }
    @inline(__always) func valueRows(slot s: Int) -> UnsafeMutablePointer<Float> { values + s * pageSize * dv }
}
