/// The causal mask, aligned bottom-right (as FlashAttention ≥ 2.1 and KV-cache
/// decoding): query row i of n_q sees key j of n_k iff j ≤ i + (n_k − n_q).
///
/// So a decode step (n_q = 1) sees every key, and it equals the last row of the
/// full causal computation. n_q > n_k would leave rows with no visible key and
/// is rejected by `validate`.
public enum CausalMask {
    /// Index of the last key visible to query row `i` (may be ≥ n_k − 1 for
    /// every row when unmasked).
    @inlinable public static func lastVisibleKey(row i: Int, queries nq: Int, keys nk: Int) -> Int {
        i + (nk - nq)
    }

    public static func validate(queries nq: Int, keys nk: Int) throws {
        guard nq <= nk else {
            throw AttnError.usage(
                .causal, "the causal mask needs n_q ≤ n_k (got n_q = \(nq), n_k = \(nk)): rows would see no key")
        }
    }
}
