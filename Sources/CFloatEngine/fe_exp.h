// FloatExp's scalar definition, shared by float_engine.c and float_terms.c (internal header).
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

#endif
