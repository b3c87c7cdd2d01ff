// The float engine's score terms: softcap, bias and ALiBi applied to a row of scores with a per-key
// error bound, and the weights of such a row (Proofs/float-certified-engine.md §7; Swift caller:
// FloatScoreTerms). Every path performs the same IEEE operations in the same order on each key; the
// freedoms used are those of §3 (Horner fused or not) and §0 (the order of the sums X-hat and D-hat).
// FP_CONTRACT is off: each operation below rounds once, exactly where §7 charges it.
#include "float_engine.h"
#include "fe_exp.h"

// The rounding terms A|p-hat| of the bias addition and A|tau-hat| of the ALiBi FMA (Lemma S), one line
// each for the scalar and the vector loops (the mutation rows halve them here).
#define biasA (p->a)  // mutation-check: float-bias
#define alibiA (p->a)  // mutation-check: float-alibi


// One key: g = row[j] (the dot product from dgemm) becomes the score tau-hat, and the return value
// bounds |tau-hat - score| (§7, Lemma S) up to the factor (1 + 2^-40) the caller applies.
static inline __attribute__((always_inline)) double term_key(double g, ptrdiff_t j, const attnbound_fe_terms *p,
                                                             int fused, double *delta) {
    const double A = p->a;
    double ah = p->s * g;                                   // a-hat = fl(s-hat * g-hat)
    double ea = (p->b * fabs(ah) + p->zq * p->knorm[j]) + p->c0;  // >= |a-hat - a| (§4)
    double y = ah, dy = ea;
    if (p->cap > 0) {
        const double cap = p->cap;
        double low = (fabs(ah) - 2.0 * ea) - 0x1p-1000;     // <= |a| - 350c is certain when low >= 351c
        if (low >= 351.0 * cap) {                           // saturated: |softcap(a) - c| <= 2c e^-700
            y = copysign(cap, ah);
            dy = 0x1p-1000 * cap + 0x1p-1000;
        } else {
            double z = ah / cap, az = fabs(z), x = -2.0 * az;
            double e = x >= TAIL ? exp_scalar(x, fused) : 0.0;  // E-hat = FloatExp(-2|z|), 0 below -700
            double t = (1.0 - e) / (1.0 + e);                // T-hat ~ tanh|z|
            y = copysign(cap * t, z);
            dy = A * fabs(y) + cap * (p->k1 * fabs(t) + p->k2 * fmin(e, 0.25))
                 + A * (cap * az) + ea + (0x1p-1000 * cap + 0x1p-1000);
        }
    }
    if (p->bias) {
        double q = y + p->bias[j * p->bias_stride];
        dy += biasA * fabs(q);
        y = q;
    }
    if (p->alibi) {
        double dist = fabs(p->diag - (double)j);             // exact: |i' - j| < 2^53
        double t = fma(-p->slope, dist, y);                 // one rounding for y - slope*dist
        dy += alibiA * fabs(t) + 0x1p-1074;
        y = t;
    }
    *delta = dy;
    return y;
}

static inline __attribute__((always_inline)) v8d vabs(v8d x) {
    v8l b;
    memcpy(&b, &x, sizeof b);
    b &= SPLATL(0x7fffffffffffffffLL);
    memcpy(&x, &b, sizeof x);
    return x;
}

// |mag| with the sign of sgn, lane by lane (copysign).
static inline __attribute__((always_inline)) v8d vcopysign(v8d mag, v8d sgn) {
    v8l m, g;
    memcpy(&m, &mag, sizeof m);
    memcpy(&g, &sgn, sizeof g);
    v8l r = (m & SPLATL(0x7fffffffffffffffLL)) | (g & ~SPLATL(0x7fffffffffffffffLL));
    v8d out;
    memcpy(&out, &r, sizeof out);
    return out;
}


// term_key on eight keys j...j+7 (no mask): the same operations per lane; the saturated and unsaturated
// softcap are both evaluated and the lane takes the one term_key takes.
static inline __attribute__((always_inline)) v8d term_keys8(v8d g, ptrdiff_t j, const attnbound_fe_terms *p, int fused,
                                                            v8d *delta) {
    const v8d A = SPLAT(p->a);
    v8d kn;
    memcpy(&kn, p->knorm + j, sizeof kn);
    v8d ah = SPLAT(p->s) * g;
    v8d ea = (SPLAT(p->b) * vabs(ah) + SPLAT(p->zq) * kn) + SPLAT(p->c0);
    v8d y = ah, dy = ea;
    if (p->cap > 0) {
        const double cap = p->cap;
        const v8d vc = SPLAT(cap), small = SPLAT(0x1p-1000 * cap + 0x1p-1000);
        v8d low = (vabs(ah) - SPLAT(2.0) * ea) - SPLAT(0x1p-1000);
        v8l sat = low >= SPLAT(351.0 * cap);
        v8d z = ah / vc, az = vabs(z), x = SPLAT(-2.0) * az;
        v8l inr = x >= SPLAT(TAIL);
        v8d e = select_bits(inr, vexp(select_bits(inr, x, SPLAT(0.0)), fused), SPLAT(0.0));
        v8d t = (SPLAT(1.0) - e) / (SPLAT(1.0) + e);
        v8d yc = vcopysign(vc * t, z);
        v8d dyc = A * vabs(yc) + vc * (SPLAT(p->k1) * vabs(t) + SPLAT(p->k2) * __builtin_elementwise_min(e, SPLAT(0.25))) +
                  A * (vc * az) + ea + small;
        y = select_bits(sat, vcopysign(vc, ah), yc);
        dy = select_bits(sat, small, dyc);
    }
    if (p->bias) {
        v8d bv = SPLAT(p->bias[0]);                          // bias_stride is 0 (broadcast) or 1
        if (p->bias_stride) memcpy(&bv, p->bias + j, sizeof bv);
        v8d q = y + bv;
        dy += SPLAT(biasA) * vabs(q);
        y = q;
    }
    if (p->alibi) {
        v8d jv = {0, 1, 2, 3, 4, 5, 6, 7};
        v8d dist = vabs(SPLAT(p->diag - (double)j) - jv);   // exact: integers below 2^53
        v8d t = __builtin_elementwise_fma(SPLAT(-p->slope), dist, y);
        dy += SPLAT(alibiA) * vabs(t) + SPLAT(0x1p-1074);
        y = t;
    }
    *delta = dy;
    return y;
}

static inline __attribute__((always_inline)) void scores_body(double *row, double *delta, const unsigned char *mask,
                                                              ptrdiff_t count, const attnbound_fe_terms *p,
                                                              int fused) {
    ptrdiff_t j = 0;
    if (!mask) {
        for (; j + 8 <= count; j += 8) {
            v8d g, d;
            memcpy(&g, row + j, sizeof g);
            g = term_keys8(g, j, p, fused, &d);
            memcpy(row + j, &g, sizeof g);
            memcpy(delta + j, &d, sizeof d);
        }
    }
    for (; j < count; j++) {
        if (mask && !mask[j]) { row[j] = 0.0; delta[j] = 0.0; continue; }
        row[j] = term_key(row[j], j, p, fused, delta + j);
    }
}

// The weights of a row of scores with terms (§7): w = FloatExp(fl(tau - M)) for the bulk, 0 for the
// tail (x < -700) and hidden keys. out = {X-hat = sum w|x|, D-hat = sum w*delta, max delta over the
// bulk}. Returns 0, or NaN if a tail key's delta is too large for the tail argument or not finite.
static inline __attribute__((always_inline)) double weights_terms_body(double *row, const double *delta,
                                                                       const unsigned char *mask, ptrdiff_t count,
                                                                       double M, int fused, double *out) {
    const v8d vm = SPLAT(M);
    v8d accX = SPLAT(0.0), accD = SPLAT(0.0), dmax = SPLAT(0.0);
    v8l bad = SPLATL(0);
    ptrdiff_t j = 0;
    for (; j + 8 <= count; j += 8) {
        v8d t, d;
        memcpy(&t, row + j, sizeof t);
        memcpy(&d, delta + j, sizeof d);
        v8l vis = SPLATL(-1);
        if (mask) {
            v8u m8;
            memcpy(&m8, mask + j, sizeof m8);
            vis = __builtin_convertvector(m8 != 0, v8l);
        }
        t = select_bits(vis, t, SPLAT(0.0));
        d = select_bits(vis, d, SPLAT(0.0));
        v8d x = t - vm;
        v8l bulk = (x >= SPLAT(TAIL)) & vis;
        v8d xe = select_bits(bulk, x, SPLAT(0.0));           // the exp never sees a tail argument
        v8d w = select_bits(bulk, vexp(xe, fused), SPLAT(0.0));
        memcpy(row + j, &w, sizeof w);
        accX -= w * xe;
        accD += w * select_bits(bulk, d, SPLAT(0.0));
        dmax = __builtin_elementwise_max(dmax, select_bits(bulk, d, SPLAT(0.0)));
        // Tail keys: delta <= (|x| - 700)/4 + 1/2 and delta <= 2^1000 (false for NaN).
        v8l tail = vis & ~bulk;
        v8l fine = (d <= (-x - SPLAT(700.0)) * SPLAT(0.25) + SPLAT(0.5)) & (d <= SPLAT(0x1p1000));
        bad |= tail & ~fine;
        accD += select_bits(vis, d, SPLAT(0.0)) * SPLAT(0.0);  // NaN in any visible delta reaches D-hat
    }
    double X = 0.0, D = 0.0, dm = 0.0;
    int64_t anyBad = 0;
    for (int l = 0; l < 8; l++) {
        X += accX[l];
        D += accD[l];
        dm = dm > dmax[l] ? dm : dmax[l];
        anyBad |= bad[l];
    }
    for (; j < count; j++) {
        if (mask && !mask[j]) { row[j] = 0.0; continue; }
        double x = row[j] - M, d = delta[j];
        D += d * 0.0;
        if (x >= TAIL) {
            double w = exp_scalar(x, fused);
            row[j] = w;
            X -= w * x;
            D += w * d;
            dm = dm > d ? dm : d;
        } else {
            row[j] = 0.0;
            if (!(d <= (-x - 700.0) * 0.25 + 0.5 && d <= 0x1p1000)) anyBad = 1;
        }
    }
    out[0] = X;
    out[1] = D;
    out[2] = dm;
    return anyBad ? NAN : 0.0;
}

#if defined(__x86_64__) && defined(__clang__)
#define ATTR_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
#define ATTR_AVX2 __attribute__((target("avx2,fma")))
ATTR_AVX512 static void scores_avx512(double *r, double *d, const unsigned char *m, ptrdiff_t n,
                                      const attnbound_fe_terms *p) {
    scores_body(r, d, m, n, p, 1);
}
ATTR_AVX2 static void scores_avx2(double *r, double *d, const unsigned char *m, ptrdiff_t n,
                                  const attnbound_fe_terms *p) {
    scores_body(r, d, m, n, p, 1);
}
ATTR_AVX512 static double wterms_avx512(double *r, const double *d, const unsigned char *m, ptrdiff_t n, double M,
                                        double *o) {
    return weights_terms_body(r, d, m, n, M, 1, o);
}
ATTR_AVX2 static double wterms_avx2(double *r, const double *d, const unsigned char *m, ptrdiff_t n, double M,
                                    double *o) {
    return weights_terms_body(r, d, m, n, M, 1, o);
}
#endif

// An ISA above the machine's falls back to the best one present.
static int clamp_isa(int isa) { int best = attnbound_fe_isa(); return isa < 0 ? 0 : isa > best ? best : isa; }

void attnbound_fe_scores_on(int isa, double *row, double *delta, const unsigned char *mask, ptrdiff_t count,
                            const attnbound_fe_terms *p) {
#if defined(__x86_64__) && defined(__clang__)
    switch (clamp_isa(isa)) {
    case 2: scores_avx512(row, delta, mask, count, p); return;
    case 1: scores_avx2(row, delta, mask, count, p); return;
    }
#endif
    scores_body(row, delta, mask, count, p, 0);
}

double attnbound_fe_weights_terms_on(int isa, double *row, const double *delta, const unsigned char *mask,
                                     ptrdiff_t count, double M, double *out) {
#if defined(__x86_64__) && defined(__clang__)
    switch (clamp_isa(isa)) {
    case 2: return wterms_avx512(row, delta, mask, count, M, out);
    case 1: return wterms_avx2(row, delta, mask, count, M, out);
    }
#endif
    return weights_terms_body(row, delta, mask, count, M, 0, out);
}
