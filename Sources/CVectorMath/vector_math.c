// Vectorised exp and max for the Float32 softmax tiles.
//
// Why C: Swift cannot enable AVX2/AVX-512 for one function without unsafe
// compiler flags, which would break the package for its dependents. Clang's
// target_clones compiles each function for several ISAs and picks one at load
// time (ifunc), so the package stays portable. Same algorithm in every clone.
#include "vector_math.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define ATTNBOUND_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ATTNBOUND_CLONES
#endif

typedef float v16f __attribute__((vector_size(64)));
typedef int v16i __attribute__((vector_size(64)));

// Helpers are macros: a vector passed by value to a function would need one
// calling convention for all clones, and 512-bit vectors have none without AVX-512.
#define SPLAT(x) ((v16f){(x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x)})

// Cephes-style expf: k = round(x log2 e) via the 1.5*2^23 trick, r = x - k ln2
// (two-part ln2, k*c1 exact), degree-7 polynomial, times 2^k built in the exponent bits.
// Lanes with x < -87.33 (incl. -inf) give +0.
#define EXP16(out, xin)                                                           \
    do {                                                                          \
        v16f x_ = (xin);                                                          \
        v16i flush_ = x_ < SPLAT(-87.33f);                                        \
        v16f xc_ = __builtin_elementwise_max(x_, SPLAT(-87.33f));                 \
        v16f t_ = xc_ * SPLAT(1.44269504f) + SPLAT(12582912.0f);                  \
        v16f k_ = t_ - SPLAT(12582912.0f);                                        \
        v16f r_ = (xc_ - k_ * SPLAT(0.693359375f)) - k_ * SPLAT(-2.12194440e-4f); \
        v16f p_ = SPLAT(1.9875691500e-4f);                                        \
        p_ = p_ * r_ + SPLAT(1.3981999507e-3f);                                   \
        p_ = p_ * r_ + SPLAT(8.3334519073e-3f);                                   \
        p_ = p_ * r_ + SPLAT(4.1665795894e-2f);                                   \
        p_ = p_ * r_ + SPLAT(1.6666665459e-1f);                                   \
        p_ = p_ * r_ + SPLAT(5.0000001201e-1f);                                   \
        p_ = p_ * (r_ * r_) + r_ + SPLAT(1.0f);                                   \
        v16i ti_;                                                                 \
        memcpy(&ti_, &t_, sizeof ti_);                                            \
        v16i bits_ = ((ti_ - 0x4B400000) + 127) << 23;                            \
        v16f scale_;                                                              \
        memcpy(&scale_, &bits_, sizeof scale_);                                   \
        v16f e_ = p_ * scale_;                                                    \
        v16i eb_;                                                                 \
        memcpy(&eb_, &e_, sizeof eb_);                                            \
        eb_ &= ~flush_;                                                           \
        memcpy(&(out), &eb_, sizeof eb_);                                         \
    } while (0)

ATTNBOUND_CLONES
float attnbound_exp_shifted_sum_f32(float *x, ptrdiff_t n, float shift) {
    v16f acc = SPLAT(0.0f);
    const v16f s = SPLAT(shift);
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v16f v;
        memcpy(&v, x + i, sizeof v);
        v16f e;
        EXP16(e, v - s);
        memcpy(x + i, &e, sizeof e);
        acc += e;
    }
    float sum = 0.0f;
    if (i < n) {
        v16f v = SPLAT(-INFINITY);
        memcpy(&v, x + i, (size_t)(n - i) * sizeof(float));
        v16f e;
        EXP16(e, v - s);
        memcpy(x + i, &e, (size_t)(n - i) * sizeof(float));
        acc += e;  // lanes past n hold exp(-inf) = 0
    }
    for (int j = 0; j < 16; j++) sum += acc[j];
    return sum;
}

ATTNBOUND_CLONES
float attnbound_max_f32(const float *x, ptrdiff_t n) {
    v16f m = SPLAT(-INFINITY);
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v16f v;
        memcpy(&v, x + i, sizeof v);
        m = __builtin_elementwise_max(v, m);
    }
    float best = -INFINITY;
    for (int j = 0; j < 16; j++) best = m[j] > best ? m[j] : best;
    for (; i < n; i++) best = x[i] > best ? x[i] : best;
    return best;
}

ATTNBOUND_CLONES
float attnbound_max_abs_f32(const float *x, ptrdiff_t n) {
    v16f m = SPLAT(0.0f);
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v16f v;
        memcpy(&v, x + i, sizeof v);
        m = __builtin_elementwise_max(__builtin_elementwise_abs(v), m);
    }
    float best = 0.0f;
    for (int j = 0; j < 16; j++) best = m[j] > best ? m[j] : best;
    for (; i < n; i++) best = fabsf(x[i]) > best ? fabsf(x[i]) : best;
    return best;
}

typedef float v8f __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));

ATTNBOUND_CLONES
double attnbound_sum_squares_f32(const float *x, ptrdiff_t n) {
    v8d acc = {0, 0, 0, 0, 0, 0, 0, 0};
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8f v;
        memcpy(&v, x + i, sizeof v);
        v8d y = __builtin_convertvector(v, v8d);
        acc += y * y;  // exact squares (48 bits); one rounding per addition, fused or not
    }
    double s = 0.0;
    for (int j = 0; j < 8; j++) s += acc[j];
    for (; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}

ATTNBOUND_CLONES
float attnbound_dot_f32(const float *q, const float *x, ptrdiff_t d) {
    v16f acc = SPLAT(0.0f);
    ptrdiff_t c = 0;
    for (; c + 16 <= d; c += 16) {
        v16f a, b;
        memcpy(&a, q + c, sizeof a);
        memcpy(&b, x + c, sizeof b);
        acc += a * b;
    }
    float s = 0.0f;
    for (int j = 0; j < 16; j++) s += acc[j];
    for (; c < d; c++) s += q[c] * x[c];
    return s;
}

// The lane sum of the box scores: a tree of halves (lane i + lane i+8, then +4, +2, +1), the same for one query
// and for four side by side (BOX_TREE4), so that a grouped score equals the single one bit for bit. Summing the 16
// lanes in order instead was a chain of 16 dependent scalar adds per query and page: two thirds of the scoring time.
#define BOX_TREE1(a, z)                                                                                       \
    do {                                                                                                      \
        v16f u_ = (a) + __builtin_shufflevector((a), (a), 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7); \
        v16f v_ = u_ + __builtin_shufflevector(u_, u_, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);   \
        v16f w_ = v_ + __builtin_shufflevector(v_, v_, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);   \
        (z) = w_[0] + w_[1];                                                                                  \
    } while (0)

// Four queries' trees at once: z[4t] is query t's BOX_TREE1 (the same additions, other lanes).
#define BOX_TREE4(a, z)                                                                                          \
    do {                                                                                                         \
        v16f u0_ = __builtin_shufflevector((a)[0], (a)[1], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) + \
                   __builtin_shufflevector((a)[0], (a)[1], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, \
                                           31);                                                                  \
        v16f u1_ = __builtin_shufflevector((a)[2], (a)[3], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) + \
                   __builtin_shufflevector((a)[2], (a)[3], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, \
                                           31);                                                                  \
        v16f v_ = __builtin_shufflevector(u0_, u1_, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27) +      \
                  __builtin_shufflevector(u0_, u1_, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);      \
        v16f w_ = v_ + __builtin_shufflevector(v_, v_, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);        \
        (z) = w_ + __builtin_shufflevector(w_, w_, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);            \
    } while (0)

ATTNBOUND_CLONES
float attnbound_box_score_f32(const float *qpos, const float *qneg, const float *lo, const float *hi, ptrdiff_t d) {
    // Two accumulators, q⁺·hi and q⁻·lo: two chains of d/16 multiply-adds instead of one of d/8.
    v16f ah = SPLAT(0.0f), al = SPLAT(0.0f);
    ptrdiff_t c = 0;
    for (; c + 16 <= d; c += 16) {
        v16f p, n, l, h;
        memcpy(&p, qpos + c, sizeof p);
        memcpy(&n, qneg + c, sizeof n);
        memcpy(&l, lo + c, sizeof l);
        memcpy(&h, hi + c, sizeof h);
        ah += p * h;
        al += n * l;
    }
    float s;
    BOX_TREE1(ah + al, s);
    for (; c < d; c++) s += qpos[c] * hi[c] + qneg[c] * lo[c];
    return s;
}

// attnbound_box_score_f32 for `heads` queries (rows of qpos, qneg) against the digests of `count` pages: page
// pages[i] is row pages[i] of lo and hi, and query g's score goes to out[g·stride + i]. Each score is formed exactly
// as attnbound_box_score_f32 forms it (the same vector sums, the same tree of lanes, then the tail in order), four
// queries at a time, their trees side by side in one vector. The digests of the page BOX_AHEAD places further
// down the list are prefetched: at a 32k context they are 1 MB per KV head, and from memory (8 KV heads × 4
// queries, 2 threads, after a cache flush) the scoring took 0.87–1.0 ms with the prefetch and 0.99–1.04 ms without
// (with the lanes summed in order; with the tree, 27–38 ns a page for four queries, hot or cold, against 65–75).
#define BOX_AHEAD 8
ATTNBOUND_CLONES
void attnbound_box_scores_f32(const float *qpos, const float *qneg, ptrdiff_t heads, const float *lo, const float *hi,
                              ptrdiff_t d, const ptrdiff_t *pages, ptrdiff_t count, float *out, ptrdiff_t stride) {
    for (ptrdiff_t i = 0; i < count; i++) {
        if (i + BOX_AHEAD < count) {
            const char *l = (const char *)(lo + pages[i + BOX_AHEAD] * d), *h = (const char *)(hi + pages[i + BOX_AHEAD] * d);
            for (ptrdiff_t y = 0; y < d * (ptrdiff_t)sizeof(float); y += 64) {
                __builtin_prefetch(l + y, 0, 3);
                __builtin_prefetch(h + y, 0, 3);
            }
        }
        const float *pl = lo + pages[i] * d, *ph = hi + pages[i] * d;
        ptrdiff_t g = 0;
        for (; g + 4 <= heads; g += 4) {
            v16f ah[4] = {SPLAT(0.0f), SPLAT(0.0f), SPLAT(0.0f), SPLAT(0.0f)};
            v16f al[4] = {SPLAT(0.0f), SPLAT(0.0f), SPLAT(0.0f), SPLAT(0.0f)};
            ptrdiff_t c = 0;
            for (; c + 16 <= d; c += 16) {
                v16f l, h;
                memcpy(&l, pl + c, sizeof l);
                memcpy(&h, ph + c, sizeof h);
                for (int t = 0; t < 4; t++) {
                    v16f p, n;
                    memcpy(&p, qpos + (g + t) * d + c, sizeof p);
                    memcpy(&n, qneg + (g + t) * d + c, sizeof n);
                    ah[t] += p * h;
                    al[t] += n * l;
                }
            }
            v16f a[4], z;
            for (int t = 0; t < 4; t++) a[t] = ah[t] + al[t];
            BOX_TREE4(a, z);
            float s[4] = {z[0], z[4], z[8], z[12]};
            for (; c < d; c++)
                for (int t = 0; t < 4; t++) s[t] += qpos[(g + t) * d + c] * ph[c] + qneg[(g + t) * d + c] * pl[c];
            for (int t = 0; t < 4; t++) out[(g + t) * stride + i] = s[t];
        }
        for (; g < heads; g++) out[g * stride + i] = attnbound_box_score_f32(qpos + g * d, qneg + g * d, pl, ph, d);
    }
}
