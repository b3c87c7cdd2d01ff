// The float engine's loops over a row of scores (Proofs/float-certified-engine.md, §3–§4).
//
// Why C: Swift cannot enable AVX-512 for one function without unsafe flags, and these two loops are
// most of the engine's non-BLAS time. Every path (AVX-512, AVX2, portable) performs the same IEEE
// operations in the same order on each element; the one freedom the proof allows and we use is
// fusing Horner's multiply-add (§3 (c) holds with or without FMA) and the order of the X-hat sum
// (§0's bound holds for any order). Everything else is kept unfused: FP_CONTRACT is off, so
// fl(s·g) − m, x·(1/ln2) + S and (x − k·C1) − k·C2 round exactly where §3 and §4 say.
//
// This file is the judge's own code: it shares nothing with the kernels it certifies (CVectorMath).
#include "float_engine.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

#include "fe_exp.h"
const double attnbound_fe_inv_ln2 = INV_LN2, attnbound_fe_c1 = C1, attnbound_fe_c2 = C2, attnbound_fe_tail = TAIL;

static inline __attribute__((always_inline)) double max_body(const double *g, ptrdiff_t n) {
    v8d mx = SPLAT(-INFINITY), nan = SPLAT(0.0);
    ptrdiff_t j = 0;
    for (; j + 8 <= n; j += 8) {
        v8d v;
        memcpy(&v, g + j, sizeof v);
        mx = __builtin_elementwise_max(mx, v);
        nan += v * 0.0;                          // NaN iff some v is NaN or infinite
    }
    double m = -INFINITY, z = 0.0;
    for (int l = 0; l < 8; l++) { m = m > mx[l] ? m : mx[l]; z += nan[l]; }
    for (; j < n; j++) { m = m > g[j] ? m : g[j]; z += g[j] * 0.0; }
    return z == 0.0 ? m : NAN;
}

static inline __attribute__((always_inline)) double weights_body(double *row, ptrdiff_t visible, ptrdiff_t count,
                                                                 double s, double m, int fused) {
    const v8d vs = SPLAT(s), vm = SPLAT(m);
    v8d acc = SPLAT(0.0);
    ptrdiff_t j = 0;
    for (; j + 8 <= visible; j += 8) {
        v8d g;
        memcpy(&g, row + j, sizeof g);
        v8d t = g * vs;                          // t-hat = fl(s*g)
        v8d x = t - vm;                          // x-hat = fl(t - m) <= 0
        v8d w = vexp(x, fused);
        v8l keep = x >= SPLAT(TAIL);             // the tail (and NaN) gets weight 0
        v8l wb;
        memcpy(&wb, &w, sizeof wb);
        wb &= keep;
        memcpy(&w, &wb, sizeof w);
        memcpy(row + j, &w, sizeof w);
        acc -= w * x;                            // X-hat: the bulk's sum of w·|x|
    }
    double sum = 0.0;
    for (int l = 0; l < 8; l++) sum += acc[l];
    for (; j < visible; j++) {
        double t = row[j] * s;
        double x = t - m;
        double w = x >= TAIL ? exp_scalar(x, fused) : 0.0;
        row[j] = w;
        sum -= w * x;
    }
    for (; j < count; j++) row[j] = 0.0;
    return sum;
}

// The same two loops over a row with an explicit mask (mask[j] != 0: key j visible). Hidden keys
// never reach the maximum, get weight 0 and add nothing to X-hat, whatever their score (even
// non-finite: hidden scores are replaced by 0 before any arithmetic that could carry them).
static inline __attribute__((always_inline)) v8l mask_lanes(const unsigned char *mask) {
    v8u m;
    memcpy(&m, mask, sizeof m);
    return __builtin_convertvector(m != 0, v8l);  // m != 0 is -1 (all ones) per visible lane; widened signed
}

static inline __attribute__((always_inline)) double max_masked_body(const double *g, const unsigned char *mask,
                                                                    ptrdiff_t n) {
    v8d mx = SPLAT(-INFINITY), nan = SPLAT(0.0);
    ptrdiff_t j = 0;
    for (; j + 8 <= n; j += 8) {
        v8d v;
        memcpy(&v, g + j, sizeof v);
        v8l keep = mask_lanes(mask + j);
        v8d vis = select_bits(keep, v, SPLAT(0.0));
        mx = __builtin_elementwise_max(mx, select_bits(keep, v, SPLAT(-INFINITY)));
        nan += vis * 0.0;                        // NaN iff some visible v is NaN or infinite
    }
    double m = -INFINITY, z = 0.0;
    for (int l = 0; l < 8; l++) { m = m > mx[l] ? m : mx[l]; z += nan[l]; }
    for (; j < n; j++) {
        if (!mask[j]) continue;
        m = m > g[j] ? m : g[j];
        z += g[j] * 0.0;
    }
    return z == 0.0 ? m : NAN;
}

static inline __attribute__((always_inline)) double weights_masked_body(double *row, const unsigned char *mask,
                                                                        ptrdiff_t count, double s, double m,
                                                                        int fused) {
    const v8d vs = SPLAT(s), vm = SPLAT(m);
    v8d acc = SPLAT(0.0);
    ptrdiff_t j = 0;
    for (; j + 8 <= count; j += 8) {
        v8d g;
        memcpy(&g, row + j, sizeof g);
        v8l vis = mask_lanes(mask + j);
        g = select_bits(vis, g, SPLAT(0.0));     // hidden scores never enter the arithmetic
        v8d t = g * vs;
        v8d x = t - vm;
        v8d w = vexp(x, fused);
        v8l keep = (x >= SPLAT(TAIL)) & vis;     // visible bulk keys only
        w = select_bits(keep, w, SPLAT(0.0));
        memcpy(row + j, &w, sizeof w);
        acc -= w * select_bits(keep, x, SPLAT(0.0));
    }
    double sum = 0.0;
    for (int l = 0; l < 8; l++) sum += acc[l];
    for (; j < count; j++) {
        if (!mask[j]) { row[j] = 0.0; continue; }
        double t = row[j] * s;
        double x = t - m;
        double w = x >= TAIL ? exp_scalar(x, fused) : 0.0;
        row[j] = w;
        if (w != 0.0) sum -= w * x;
    }
    return sum;
}

#if defined(__x86_64__) && defined(__clang__)
#define ATTR_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
#define ATTR_AVX2 __attribute__((target("avx2,fma")))
ATTR_AVX512 static double max_avx512(const double *g, ptrdiff_t n) { return max_body(g, n); }
ATTR_AVX2 static double max_avx2(const double *g, ptrdiff_t n) { return max_body(g, n); }
ATTR_AVX512 static double weights_avx512(double *row, ptrdiff_t v, ptrdiff_t c, double s, double m) {
    return weights_body(row, v, c, s, m, 1);
}
ATTR_AVX2 static double weights_avx2(double *row, ptrdiff_t v, ptrdiff_t c, double s, double m) {
    return weights_body(row, v, c, s, m, 1);
}
ATTR_AVX512 static double exp_avx512(double x) { return exp_scalar(x, 1); }
ATTR_AVX512 static double max_masked_avx512(const double *g, const unsigned char *k, ptrdiff_t n) {
    return max_masked_body(g, k, n);
}
ATTR_AVX2 static double max_masked_avx2(const double *g, const unsigned char *k, ptrdiff_t n) {
    return max_masked_body(g, k, n);
}
ATTR_AVX512 static double weights_masked_avx512(double *row, const unsigned char *k, ptrdiff_t c, double s, double m) {
    return weights_masked_body(row, k, c, s, m, 1);
}
ATTR_AVX2 static double weights_masked_avx2(double *row, const unsigned char *k, ptrdiff_t c, double s, double m) {
    return weights_masked_body(row, k, c, s, m, 1);
}
ATTR_AVX2 static double exp_avx2(double x) { return exp_scalar(x, 1); }

static int detect(void) {
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS saves the wide registers.
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
        return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
}
#else
static int detect(void) { return 0; }
#endif

double attnbound_fe_coefficient(int m) { return m >= 0 && m < 14 ? coef[m] : 0.0; }

int attnbound_fe_isa(void) {
    static int isa = -1;                         // every thread computes the same value
    int v = __atomic_load_n(&isa, __ATOMIC_RELAXED);
    if (v < 0) { v = detect(); __atomic_store_n(&isa, v, __ATOMIC_RELAXED); }
    return v;
}

// An ISA above the machine's falls back to the best one present.
static int clamp(int isa) { int best = attnbound_fe_isa(); return isa < 0 ? 0 : isa > best ? best : isa; }

double attnbound_fe_row_max_on(int isa, const double *g, ptrdiff_t n) {
#if defined(__x86_64__) && defined(__clang__)
    switch (clamp(isa)) {
    case 2: return max_avx512(g, n);
    case 1: return max_avx2(g, n);
    }
#endif
    return max_body(g, n);
}

double attnbound_fe_weights_on(int isa, double *row, ptrdiff_t visible, ptrdiff_t count, double s, double m) {
#if defined(__x86_64__) && defined(__clang__)
    switch (clamp(isa)) {
    case 2: return weights_avx512(row, visible, count, s, m);
    case 1: return weights_avx2(row, visible, count, s, m);
    }
#endif
    return weights_body(row, visible, count, s, m, 0);
}

double attnbound_fe_row_max_masked_on(int isa, const double *g, const unsigned char *mask, ptrdiff_t n) {
#if defined(__x86_64__) && defined(__clang__)
    switch (clamp(isa)) {
    case 2: return max_masked_avx512(g, mask, n);
    case 1: return max_masked_avx2(g, mask, n);
    }
#endif
    return max_masked_body(g, mask, n);
}

double attnbound_fe_weights_masked_on(int isa, double *row, const unsigned char *mask, ptrdiff_t count, double s,
                                      double m) {
#if defined(__x86_64__) && defined(__clang__)
    switch (clamp(isa)) {
    case 2: return weights_masked_avx512(row, mask, count, s, m);
    case 1: return weights_masked_avx2(row, mask, count, s, m);
    }
#endif
    return weights_masked_body(row, mask, count, s, m, 0);
}

double attnbound_fe_exp_on(int isa, double x) {
#if defined(__x86_64__) && defined(__clang__)
    switch (clamp(isa)) {
    case 2: return exp_avx512(x);
    case 1: return exp_avx2(x);
    }
#endif
    return exp_scalar(x, 0);
}

double attnbound_fe_row_max(const double *g, ptrdiff_t n) { return attnbound_fe_row_max_on(2, g, n); }
double attnbound_fe_weights(double *row, ptrdiff_t visible, ptrdiff_t count, double s, double m) {
    return attnbound_fe_weights_on(2, row, visible, count, s, m);
}
double attnbound_fe_exp(double x) { return attnbound_fe_exp_on(2, x); }
