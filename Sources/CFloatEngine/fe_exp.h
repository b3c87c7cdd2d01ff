// FloatExp's scalar definition and its eight-lane copy, shared by float_engine.c and float_terms.c (internal header).
// Proofs/float-certified-engine.md §3: every lane of every path performs these operations in this order.
#ifndef ATTNBOUND_FE_EXP_H
#define ATTNBOUND_FE_EXP_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

// FloatExp's constants (Sources/AttnCertified/FloatExp.swift; checked with MPFR in FloatExpTests.constants).
#define INV_LN2 0x1.71547652b82fep0
#define C1 0x1.62e42feep-1
#define C2 0x1.a39ef35793c76p-33
#define SHIFTER 0x1.8p52
#define TAIL (-700.0)
// 1/m! rounded once (m! < 2^53 is exact); FloatExpTests.constants checks each against 1/m!.
static const double coef[14] = {
    1.0, 1.0, 0.5, 1 / 6.0, 1 / 24.0, 1 / 120.0, 1 / 720.0, 1 / 5040.0, 1 / 40320.0, 1 / 362880.0,
    1 / 3628800.0, 1 / 39916800.0, 1 / 479001600.0, 1 / 6227020800.0,
};

// One lane's exp, scalar: the definition every vector lane reproduces.
static inline __attribute__((always_inline)) double exp_scalar(double x, int fused) {
    double y = x * INV_LN2 + SHIFTER;           // two roundings (contract off)
    double kd = y - SHIFTER;                     // exact: k, the integer nearest fl(x/ln2)
    double r = (x - kd * C1) - kd * C2;          // kd*C1 exact (32-bit C1, |k| <= 1011)
    double p = coef[13];
    for (int m = 12; m >= 0; m--) p = fused ? fma(p, r, coef[m]) : p * r + coef[m];
    uint64_t yb, sb;
    double sh = SHIFTER;
    memcpy(&yb, &y, 8);
    memcpy(&sb, &sh, 8);
    uint64_t eb = (yb - sb + 1023) << 52;       // 2^k, normal for k >= -1010
    double scale;
    memcpy(&scale, &eb, 8);
    return p * scale;
}

// Eight lanes (GCC/Clang vector extensions), shared by both engines' loops.
typedef double v8d __attribute__((vector_size(64)));
typedef int64_t v8l __attribute__((vector_size(64)));
typedef unsigned char v8u __attribute__((vector_size(8)));
#define SPLAT(x) ((v8d){(x), (x), (x), (x), (x), (x), (x), (x)})
#define SPLATL(x) ((v8l){(x), (x), (x), (x), (x), (x), (x), (x)})

static inline __attribute__((always_inline)) v8d select_bits(v8l keep, v8d a, v8d b) {
    v8l ab, bb;
    memcpy(&ab, &a, sizeof ab);
    memcpy(&bb, &b, sizeof bb);
    v8l r = (ab & keep) | (bb & ~keep);
    v8d out;
    memcpy(&out, &r, sizeof out);
    return out;
}

// FloatExp on eight lanes in [-700, 0]: exp_scalar's operations in the same order (the one vector copy:
// float_engine.c's and float_terms.c's loops call it, always inlined).
static inline __attribute__((always_inline)) v8d vexp(v8d x, int fused) {
    const double shf = SHIFTER;
    int64_t sbits;
    memcpy(&sbits, &shf, 8);
    v8d y = x * SPLAT(INV_LN2) + SPLAT(SHIFTER);
    v8d kd = y - SPLAT(SHIFTER);
    v8d r = (x - kd * SPLAT(C1)) - kd * SPLAT(C2);
    v8d q = SPLAT(coef[13]);
    for (int m = 12; m >= 0; m--) q = fused ? __builtin_elementwise_fma(q, r, SPLAT(coef[m])) : q * r + SPLAT(coef[m]);
    v8l yb;
    memcpy(&yb, &y, sizeof yb);
    v8l eb = (yb - SPLATL(sbits) + SPLATL(1023)) << 52;
    v8d sc;
    memcpy(&sc, &eb, sizeof sc);
    return q * sc;
}

#endif
