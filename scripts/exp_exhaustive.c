// Exhaustive check of every compiled copy of the Float32 exp (issue 23): every float x in [-87.33, 0),
// against libm exp in double, for
//   - the three clones of attnbound_exp_shifted_sum_f32 (vector_math.c: x86-64-v4 and x86-64-v3 with FMA
//     contraction, the default without FMA), compiled by check-exp-exhaustive.sh as exp_v4, exp_v3, exp_v1;
//   - the three copies of the fused kernel's exp (fused_kernel.inc via attnbound_fused_exp_f32: baseline SSE2
//     without FMA, AVX2 and AVX-512 with FMA), each only where the CPU runs it.
// Also checks that every float below -87.33 down to -104 gives exactly 0 (the flush: absolute error < 2^-125).
// Fails (exit 1) if a copy exceeds eta = 2^-21 (Proofs/online-softmax-error.md). Two threads, one per half of the range.
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "fused_attention.h"
float exp_v4(float *x, ptrdiff_t n, float shift);
float exp_v3(float *x, ptrdiff_t n, float shift);
float exp_v1(float *x, ptrdiff_t n, float shift);

enum { COPIES = 6, CHUNK = 4096 };
static const char *names[COPIES] = {"vector_math x86-64-v4 (FMA)", "vector_math x86-64-v3 (FMA)",
                                    "vector_math default (no FMA)", "fused baseline (SSE2, no FMA)",
                                    "fused AVX2 (FMA)", "fused AVX-512 (FMA)"};
static int runs[COPIES];
typedef struct { uint32_t lo, hi; double worst[COPIES]; float at[COPIES]; long bad_flush; } job;

static void eval(int c, float *buf, ptrdiff_t n) {
    switch (c) {
    case 0: exp_v4(buf, n, 0.f); break;
    case 1: exp_v3(buf, n, 0.f); break;
    case 2: exp_v1(buf, n, 0.f); break;
    default: attnbound_fused_exp_f32(c - 2, buf, n); break;  // ATTNBOUND_ISA_BASELINE = 1, AVX2 = 2, AVX-512 = 3
    }
}

// Magnitude bit patterns [lo, hi) of negative floats.
static void *work(void *arg) {
    job *j = arg;
    static _Thread_local float in[CHUNK], buf[CHUNK];
    static _Thread_local double ref[CHUNK];
    for (uint32_t b = j->lo; b < j->hi;) {
        int n = 0;
        for (; n < CHUNK && b < j->hi; n++, b++) {
            uint32_t bits = b | 0x80000000u;
            memcpy(&in[n], &bits, 4);
            ref[n] = exp((double)in[n]);
        }
        for (int c = 0; c < COPIES; c++) {
            if (!runs[c]) continue;
            memcpy(buf, in, n * sizeof(float));
            eval(c, buf, n);
            for (int i = 0; i < n; i++) {
                double r = fabs(buf[i] - ref[i]) / ref[i];
                if (in[i] < -87.33f) { if (buf[i] != 0) j->bad_flush++; continue; }
                if (r > j->worst[c]) { j->worst[c] = r; j->at[c] = in[i]; }
            }
        }
    }
    return NULL;
}

int main(void) {
    runs[0] = __builtin_cpu_supports("x86-64-v4");
    runs[1] = __builtin_cpu_supports("x86-64-v3");
    runs[2] = 1;
    for (int c = 3; c < COPIES; c++) runs[c] = attnbound_fused_isa(c - 2) == c - 2;
    float lim = -104.0f;
    uint32_t top;
    memcpy(&top, &lim, 4);
    top = (top & 0x7fffffffu) + 1;  // every magnitude up to 104
    job jobs[2] = {{1, top / 2, {0}, {0}, 0}, {top / 2, top, {0}, {0}, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, work, &jobs[i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    const double eta = ldexp(1, -21);
    int fail = jobs[0].bad_flush + jobs[1].bad_flush > 0;
    for (int c = 0; c < COPIES; c++) {
        if (!runs[c]) { printf("%-32s not run (the CPU lacks it)\n", names[c]); continue; }
        int w = jobs[1].worst[c] > jobs[0].worst[c];
        double worst = jobs[w].worst[c];
        printf("%-32s worst rel %.3e = 2^%.2f (%.2f ulp) at x = %.9g%s\n", names[c], worst, log2(worst),
               worst / ldexp(1, -24), jobs[w].at[c], worst <= eta ? "" : "  EXCEEDS eta = 2^-21");
        fail |= worst > eta;
    }
    long bad = jobs[0].bad_flush + jobs[1].bad_flush;
    printf("flush below -87.33 (down to -104): %s\n", bad ? "NONZERO RESULTS" : "all 0");
    return fail;
}
