// The fused exact attention kernel: tiled online softmax (FlashAttention-2's
// order) with the score tile kept in registers and L1, instead of two BLAS
// calls and a 1 MiB score tile per step.
//
// Why C and why several copies: Swift cannot enable AVX2/AVX-512 for one
// function without unsafe compiler flags. Unlike the one-function clones of
// vector_math.c (target_clones), each ISA here needs its own register
// blocking (32 zmm vs 16 ymm/xmm registers), and the tests must be able to run
// the baseline copy on an AVX-512 machine; so fused_kernel.inc is instantiated
// once per ISA with a target attribute, and dispatch is explicit (cpuid via
// __builtin_cpu_supports, which also checks that the OS saves the registers).
// Same algorithm, same operation order in every copy; only the lane count and
// the register tile differ. Error bound: Proofs/online-softmax-error.md.
#include "fused_attention.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

// The Float64 exp of every copy (fused_kernel.inc, expsum; proof: Proofs/online-softmax-error.md, "The Float64
// exp"; constants checked with MPFR by FastVsReferenceTests.float64ExpConstants). ln 2 = C1 + C2 + C3 with C1 = ln 2
// rounded to 41 significant bits (k·C1 exact for |k| ≤ 1021), C2 = RN(ln 2 − C1), |C3| < 2^-101.
#define EXP64_INV_LN2 0x1.71547652b82fep0
#define EXP64_C1 0x1.62e42fefa4p-1
#define EXP64_C2 -0x1.8432a1b0e2634p-43
#define EXP64_SHIFTER 0x1.8p52
#define EXP64_SHIFTER_BITS 0x4338000000000000LL
#define EXP64_CUT -708.0
// c_m = RN(1/m!) (m! < 2^53 is exact, so each is one correctly rounded division).
static const double exp64_coef[14] = {
    1.0, 1.0, 0.5, 1 / 6.0, 1 / 24.0, 1 / 120.0, 1 / 720.0, 1 / 5040.0, 1 / 40320.0, 1 / 362880.0,
    1 / 3628800.0, 1 / 39916800.0, 1 / 479001600.0, 1 / 6227020800.0,
};

double attnbound_fused_exp_f64_constant(int which) {
    switch (which) {
    case 0: return EXP64_INV_LN2;
    case 1: return EXP64_C1;
    case 2: return EXP64_C2;
    case 3: return EXP64_CUT;
    default: return which >= 100 && which < 114 ? exp64_coef[which - 100] : 0.0;
    }
}

static inline ptrdiff_t round_up(ptrdiff_t x, ptrdiff_t m) { return (x + m - 1) / m * m; }

#if defined(__x86_64__) && defined(__clang__)
#define HAVE_X86_CLONES 1
#define ATTR_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
#define ATTR_AVX2 __attribute__((target("avx2,fma")))
#else
#define HAVE_X86_CLONES 0
#endif

typedef float v16f __attribute__((vector_size(64)));
typedef int v16i __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef int v4i __attribute__((vector_size(16)));
typedef double v8d __attribute__((vector_size(64)));
typedef double v4d __attribute__((vector_size(32)));
typedef double v2d __attribute__((vector_size(16)));
typedef long long v8l __attribute__((vector_size(64)));
typedef long long v4l __attribute__((vector_size(32)));
typedef long long v2l __attribute__((vector_size(16)));

// Register tiles: RB rows × CV vectors. AVX-512: Float32 6 × 4 = 24 of 32 registers, Float64 8 × 2; AVX2 Float32
// 6 × 2 = 12 of 16, as the Haswell sgemm kernels; the others 4 × 2. The widest chunk (CV·W) divides the key tile
// (256). Measured: Float32 RB = 6 ~15% faster than 4 on Emerald Rapids (AVX-512) and ~10% on Zen 5 (AVX2 copy);
// Float64 8 × 2 46–49 against 28–31 GFLOP/s for 6 × 4 on one Zen 5 core; the baseline copy gained nothing from 6 rows
// (without FMA every product needs a register of its own).
#define T float
#define IS_F32 1
#define EXPS expf
#define ATTR
#define VT v4f
#define VI v4i
#define W 4
#define RB 4
#define CV 2
#define SUF _f32_base
#include "fused_kernel.inc"
#undef VT
#undef VI
#undef W
#undef RB
#undef CV
#undef SUF
#undef ATTR
#if HAVE_X86_CLONES
#define ATTR ATTR_AVX2
#define VT v8f
#define VI v8i
#define W 8
#define RB 6
#define CV 2
#define SUF _f32_avx2
#include "fused_kernel.inc"
#undef VT
#undef VI
#undef W
#undef RB
#undef CV
#undef SUF
#undef ATTR
#define ATTR ATTR_AVX512
#define VT v16f
#define VI v16i
#define W 16
#define RB 6
#define CV 4
#define SUF _f32_avx512
#include "fused_kernel.inc"
#undef VT
#undef VI
#undef W
#undef RB
#undef CV
#undef SUF
#undef ATTR
#endif
#undef T
#undef IS_F32
#undef EXPS

#define T double
#define IS_F32 0
#define EXPS exp
#define ATTR
#define VT v2d
#define VI v2l
#define W 2
#define RB 4
#define CV 2
#define SUF _f64_base
#include "fused_kernel.inc"
#undef VT
#undef VI
#undef W
#undef RB
#undef CV
#undef SUF
#undef ATTR
#if HAVE_X86_CLONES
#define ATTR ATTR_AVX2
#define VT v4d
#define VI v4l
#define W 4
#define RB 4
#define CV 2
#define SUF _f64_avx2
#include "fused_kernel.inc"
#undef VT
#undef VI
#undef W
#undef RB
#undef CV
#undef SUF
#undef ATTR
#define ATTR ATTR_AVX512
#define VT v8d
#define VI v8l
#define W 8
#define RB 8  // Float64: 8 × 2 (16 keys per chunk) ran 46–49 GFLOP/s on one core, 6 × 4 only 28–31 (n = 4096)
#define CV 2
#define SUF _f64_avx512
#include "fused_kernel.inc"
#undef VT
#undef VI
#undef W
#undef RB
#undef CV
#undef SUF
#undef ATTR
#endif
#undef T
#undef IS_F32
#undef EXPS

static int best_isa(void) {
#if HAVE_X86_CLONES
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
        return ATTNBOUND_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ATTNBOUND_ISA_AVX2;
#endif
    return ATTNBOUND_ISA_BASELINE;
}

int attnbound_fused_isa(int requested) {
    int best = best_isa();
    if (requested == ATTNBOUND_ISA_AUTO) {
        const char *e = getenv("ATTNBOUND_KERNEL_ISA");
        if (e && strcmp(e, "baseline") == 0) requested = ATTNBOUND_ISA_BASELINE;
        else if (e && strcmp(e, "avx2") == 0) requested = ATTNBOUND_ISA_AVX2;
        else requested = best;
    }
    return requested < best ? requested : best;
}

size_t attnbound_fused_scratch_bytes(ptrdiff_t max_rows, ptrdiff_t d, ptrdiff_t dv, int elem) {
    // Sized for every copy's register tile (RB ≤ 8 rows, chunk lanes dividing 64).
    const ptrdiff_t rp = max_rows + 8, dvp = round_up(dv, 64), bc = ATTNBOUND_FUSED_KEY_TILE;
    return (size_t)(rp * d + d * bc + bc * dvp + rp * bc + rp * dvp + 4 * rp + 8) * (size_t)elem;
}

void attnbound_fused_f32(const attnbound_fused_job *job) {
    switch (attnbound_fused_isa(job->isa)) {
#if HAVE_X86_CLONES
    case ATTNBOUND_ISA_AVX512: fused_f32_avx512(job); return;
    case ATTNBOUND_ISA_AVX2: fused_f32_avx2(job); return;
#endif
    default: fused_f32_base(job); return;
    }
}

void attnbound_fused_f64(const attnbound_fused_job *job) {
    switch (attnbound_fused_isa(job->isa)) {
#if HAVE_X86_CLONES
    case ATTNBOUND_ISA_AVX512: fused_f64_avx512(job); return;
    case ATTNBOUND_ISA_AVX2: fused_f64_avx2(job); return;
#endif
    default: fused_f64_base(job); return;
    }
}

void attnbound_fused_begin_f32(const attnbound_fused_job *job) {
    switch (attnbound_fused_isa(job->isa)) {
#if HAVE_X86_CLONES
    case ATTNBOUND_ISA_AVX512: engine_begin_f32_avx512(job); return;
    case ATTNBOUND_ISA_AVX2: engine_begin_f32_avx2(job); return;
#endif
    default: engine_begin_f32_base(job); return;
    }
}

float attnbound_fused_range_f32(const attnbound_fused_job *job, ptrdiff_t key_begin, ptrdiff_t key_end, int level) {
    switch (attnbound_fused_isa(job->isa)) {
#if HAVE_X86_CLONES
    case ATTNBOUND_ISA_AVX512: return engine_range_f32_avx512(job, key_begin, key_end, level);
    case ATTNBOUND_ISA_AVX2: return engine_range_f32_avx2(job, key_begin, key_end, level);
#endif
    default: return engine_range_f32_base(job, key_begin, key_end, level);
    }
}

void attnbound_fused_finish_f32(const attnbound_fused_job *job) {
    switch (attnbound_fused_isa(job->isa)) {
#if HAVE_X86_CLONES
    case ATTNBOUND_ISA_AVX512: engine_finish_f32_avx512(job); return;
    case ATTNBOUND_ISA_AVX2: engine_finish_f32_avx2(job); return;
#endif
    default: engine_finish_f32_base(job); return;
    }
}

void attnbound_fused_begin_f64(const attnbound_fused_job *job) {
    switch (attnbound_fused_isa(job->isa)) {
#if HAVE_X86_CLONES
    case ATTNBOUND_ISA_AVX512: engine_begin_f64_avx512(job); return;
    case ATTNBOUND_ISA_AVX2: engine_begin_f64_avx2(job); return;
#endif
    default: engine_begin_f64_base(job); return;
    }
}

double attnbound_fused_range_f64(const attnbound_fused_job *job, ptrdiff_t key_begin, ptrdiff_t key_end, int level) {
    switch (attnbound_fused_isa(job->isa)) {
#if HAVE_X86_CLONES
    case ATTNBOUND_ISA_AVX512: return engine_range_f64_avx512(job, key_begin, key_end, level);
    case ATTNBOUND_ISA_AVX2: return engine_range_f64_avx2(job, key_begin, key_end, level);
#endif
    default: return engine_range_f64_base(job, key_begin, key_end, level);
    }
}

void attnbound_fused_finish_f64(const attnbound_fused_job *job) {
    switch (attnbound_fused_isa(job->isa)) {
#if HAVE_X86_CLONES
    case ATTNBOUND_ISA_AVX512: engine_finish_f64_avx512(job); return;
    case ATTNBOUND_ISA_AVX2: engine_finish_f64_avx2(job); return;
#endif
    default: engine_finish_f64_base(job); return;
    }
}

int attnbound_fused_row_block(int isa, int elem) {
    switch (attnbound_fused_isa(isa)) {
#if HAVE_X86_CLONES
    case ATTNBOUND_ISA_AVX512: return elem == 4 ? row_block_f32_avx512() : row_block_f64_avx512();
    case ATTNBOUND_ISA_AVX2: return elem == 4 ? row_block_f32_avx2() : row_block_f64_avx2();
#endif
    default: return elem == 4 ? row_block_f32_base() : row_block_f64_base();
    }
}

size_t attnbound_fused_packed_k_count(ptrdiff_t nk, ptrdiff_t d) {
    return (size_t)(round_up(nk, ATTNBOUND_FUSED_KEY_TILE) * d);
}

void attnbound_fused_pack_k_f32(int isa, const float *k, ptrdiff_t nk, ptrdiff_t d, ptrdiff_t t0, ptrdiff_t t1,
                                float *out) {
    switch (attnbound_fused_isa(isa)) {
#if HAVE_X86_CLONES
    case ATTNBOUND_ISA_AVX512: pack_k_f32_avx512(k, nk, d, t0, t1, out); return;
    case ATTNBOUND_ISA_AVX2: pack_k_f32_avx2(k, nk, d, t0, t1, out); return;
#endif
    default: pack_k_f32_base(k, nk, d, t0, t1, out); return;
    }
}

void attnbound_fused_pack_k_f64(int isa, const double *k, ptrdiff_t nk, ptrdiff_t d, ptrdiff_t t0, ptrdiff_t t1,
                                double *out) {
    switch (attnbound_fused_isa(isa)) {
#if HAVE_X86_CLONES
    case ATTNBOUND_ISA_AVX512: pack_k_f64_avx512(k, nk, d, t0, t1, out); return;
    case ATTNBOUND_ISA_AVX2: pack_k_f64_avx2(k, nk, d, t0, t1, out); return;
#endif
    default: pack_k_f64_base(k, nk, d, t0, t1, out); return;
    }
}

float attnbound_fused_exp_f32(int isa, float *x, ptrdiff_t n) {
    switch (attnbound_fused_isa(isa)) {
#if HAVE_X86_CLONES
    case ATTNBOUND_ISA_AVX512: return expsum_any_f32_avx512(x, n);
    case ATTNBOUND_ISA_AVX2: return expsum_any_f32_avx2(x, n);
#endif
    default: return expsum_any_f32_base(x, n);
    }
}

double attnbound_fused_exp_f64(int isa, double *x, ptrdiff_t n) {
    switch (attnbound_fused_isa(isa)) {
#if HAVE_X86_CLONES
    case ATTNBOUND_ISA_AVX512: return expsum_any_f64_avx512(x, n);
    case ATTNBOUND_ISA_AVX2: return expsum_any_f64_avx2(x, n);
#endif
    default: return expsum_any_f64_base(x, n);
    }
}
