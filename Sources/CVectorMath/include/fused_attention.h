#ifndef ATTNBOUND_FUSED_ATTENTION_H
#define ATTNBOUND_FUSED_ATTENTION_H

#include <stddef.h>

/// Instruction sets of the fused kernel: `ATTNBOUND_ISA_AUTO` picks the best the CPU has.
enum { ATTNBOUND_ISA_AUTO = 0, ATTNBOUND_ISA_BASELINE = 1, ATTNBOUND_ISA_AVX2 = 2, ATTNBOUND_ISA_AVX512 = 3 };

/// One job of the fused exact kernel: `rows` query rows of one head against keys
/// [key_begin, key_end). Row-major, contiguous: q is rows × d, k and v hold all n_k rows
/// of the head (n_k × d and n_k × dv), out is rows × dv.
///
/// If `part_max` is NULL, out = softmax(scale·q·kᵀ)·v over those keys (normalised).
/// Otherwise out receives the unnormalised Σ_j exp(x_j − m)·v_j and part_max / part_sum the
/// row max m and Σ_j exp(x_j − m): a partial softmax for a split-K merge.
///
/// Causal: key j is visible to query row i (0-based in this job) iff j ≤ pos(i) + causal_offset,
/// where causal_offset = row0 + (i′ − i) + R for a window (∞, R) aligned at i′ (causal: R = 0), and
/// pos(i) = i, or i mod causal_period when a job holds the rows of several query heads of one GQA
/// group, head after head (decode). A row that sees no key outputs 0.
/// Error bound: Proofs/online-softmax-error.md.
typedef struct {
    const void *q, *k, *v;
    void *out;
    void *part_max, *part_sum;
    void *scratch;           ///< attnbound_fused_scratch_bytes(...) bytes, any alignment
    const void *k_packed;    ///< Kᵀ of the head from attnbound_fused_pack_k (same isa), or NULL: packed per tile
    ptrdiff_t rows, d, dv;
    ptrdiff_t key_begin, key_end;
    ptrdiff_t causal_offset;
    double scale;
    int causal;
    int isa;                 ///< ATTNBOUND_ISA_*; AUTO (0) honours ATTNBOUND_KERNEL_ISA=baseline|avx2|avx512
    /// Decode (speed): rows of one query position per head; 0 = every row its own position (pos(i) = i).
    ptrdiff_t causal_period;
    /// Decode (speed): 1 = take the few-row path (K read in place, tile by tile, every row per tile)
    /// whatever the row count; 0 = only below the register tile's rows.
    int in_place;
    /// If not NULL, the few-row path sets *nonfinite = 1 when a score it computes is NaN or ±∞:
    /// every non-finite entry of K (or Q) of a visited key makes its score non-finite. The caller then
    /// scans the inputs itself (a finite overflow is a false alarm, never a miss).
    int *nonfinite;
    /// Decode over pages (speed): if not NULL, the keys are the ranges [key_ranges[2i], key_ranges[2i + 1]),
    /// i < key_range_count, in this order (each cut into 256-key tiles; key_begin, key_end and the causal
    /// mask are then ignored). Few-row path only: set in_place.
    const ptrdiff_t *key_ranges;
    ptrdiff_t key_range_count;
    // The rest of the score model (all zero / NULL: plain softmax). Rows are 0-based in this job, keys absolute.
    int left_bounded;        ///< a window's left bound: key j is hidden from row i when j < i + left_offset
    ptrdiff_t left_offset;   ///< row0 + (i′ − i) − L
    const unsigned char *tile_class;  ///< per key tile (j / 256) for this job's rows: 0 empty (skipped), 1 full, 2
                                      ///< partial (the explicit mask applies); NULL: every tile partial, no mask
    const unsigned char *mask;        ///< explicit mask at (row 0, key 0): visible iff mask[i·mask_row + j·mask_col]
    ptrdiff_t mask_row, mask_col;
    const double *bias;      ///< additive bias at (row 0, key 0): bias[i·bias_row + j·bias_col], or NULL
    ptrdiff_t bias_row, bias_col;
    double softcap;          ///< c > 0: score ← c·tanh(score/c) first; 0: none
    int alibi;               ///< score −= fl(alibi_slope·|alibi_diag + i − j|) after the bias
    double alibi_slope;
    ptrdiff_t alibi_diag;    ///< the aligned diagonal of row 0 (row0 + i′ − i)
    int has_sink;            ///< exp(sink − m) joins the denominator (not with part_max: the merge adds it)
    double sink;
    void *lse;               ///< per row ln Σ exp(score) (+ sink), −∞ for a row with neither; NULL: not written
} attnbound_fused_job;

/// Elements of Kᵀ packed for one head (⌈n_k/256⌉ tiles of 256 × d).
size_t attnbound_fused_packed_k_count(ptrdiff_t nk, ptrdiff_t d);

/// Packs tiles [tile_begin, tile_end) of one head's K (n_k × d, row-major) into `out`
/// (attnbound_fused_packed_k_count elements) in the layout of the copy `isa` runs. With
/// key_begin a multiple of 256, jobs then read Kᵀ instead of transposing it each time.
void attnbound_fused_pack_k_f32(int isa, const float *k, ptrdiff_t nk, ptrdiff_t d, ptrdiff_t tile_begin,
                                ptrdiff_t tile_end, float *out);
void attnbound_fused_pack_k_f64(int isa, const double *k, ptrdiff_t nk, ptrdiff_t d, ptrdiff_t tile_begin,
                                ptrdiff_t tile_end, double *out);

/// Scratch bytes for jobs of up to `max_rows` rows (Float32: elem = 4, Float64: elem = 8).
size_t attnbound_fused_scratch_bytes(ptrdiff_t max_rows, ptrdiff_t d, ptrdiff_t dv, int elem);

/// Rows of the register tile of the copy `isa` runs (Float32: elem = 4, Float64: elem = 8). Jobs of fewer rows
/// (decode) take a one-row path that reads K in place: k_packed is then ignored, and need not be packed.
int attnbound_fused_row_block(int isa, int elem);

/// The register-tile engine one key range at a time (the block-sparse kernels: a tile list in any order). `begin`
/// prescales the job's rows and clears O, m, l in its scratch; `range` runs keys [key_begin, key_end) in tiles of up
/// to 256 keys from key_begin (ascending), exactly as a job's own tiles (causal, windows, terms and k_packed apply;
/// the range must not cross a tile_class tile); `finish` writes out (and part_max/part_sum or the LSE) as a job
/// does. With `level`, `range` returns max over rows of (the row's max score in the range − its running max before
/// the range): +∞ for a row's first keys, −∞ if no row saw a key (LiteAttention's level, in natural-log units).
/// The scratch must stay untouched between the calls of one job. Jobs of any row count take the register tile.
void attnbound_fused_begin_f32(const attnbound_fused_job *job);
float attnbound_fused_range_f32(const attnbound_fused_job *job, ptrdiff_t key_begin, ptrdiff_t key_end, int level);
void attnbound_fused_finish_f32(const attnbound_fused_job *job);
void attnbound_fused_begin_f64(const attnbound_fused_job *job);
double attnbound_fused_range_f64(const attnbound_fused_job *job, ptrdiff_t key_begin, ptrdiff_t key_end, int level);
void attnbound_fused_finish_f64(const attnbound_fused_job *job);

/// The ISA a job with `requested` would run (never one the CPU lacks).
int attnbound_fused_isa(int requested);

void attnbound_fused_f32(const attnbound_fused_job *job);
void attnbound_fused_f64(const attnbound_fused_job *job);

/// The Float32 exp of the copy `isa` runs: x[i] ← exp(x[i]) for x[i] ≤ 0 (−∞ gives 0); returns the sum.
/// For the tests of its relative error (FastVsReferenceTests.vectorExpFloatUlps).
float attnbound_fused_exp_f32(int isa, float *x, ptrdiff_t n);

/// The Float64 exp of the copy `isa` runs: x[i] ← exp(x[i]) for x[i] ≤ 0 (below −708 and −∞ give 0); returns the
/// sum. For the tests of its relative error (FastVsReferenceTests.vectorExpDoubleUlps).
double attnbound_fused_exp_f64(int isa, double *x, ptrdiff_t n);

/// The Float64 exp's constants, for the test that recomputes them with MPFR: 0 = fl(1/ln 2), 1 = C1, 2 = C2,
/// 3 = the flush cut (−708), 100 + m = c_m ≈ 1/m! (m = 0…13).
double attnbound_fused_exp_f64_constant(int which);

/// Keys per tile (the T of the error bound counts tiles of this many keys).
enum { ATTNBOUND_FUSED_KEY_TILE = 256 };

#endif
