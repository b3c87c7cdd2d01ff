#ifndef ATTNBOUND_VECTOR_MATH_H
#define ATTNBOUND_VECTOR_MATH_H

#include <stddef.h>

/// Replaces x[i] by exp(x[i] - shift) for i < n and returns the sum of the results.
/// Requires x[i] - shift <= 0 (or x[i] = -inf, giving exactly 0). Arguments below
/// -87.33 are flushed to 0. Relative error <= 2^-21 (see Proofs/online-softmax-error.md).
float attnbound_exp_shifted_sum_f32(float *x, ptrdiff_t n, float shift);

/// max(x[0..n-1]); -inf for n = 0. NaN inputs are not expected (validated upstream).
float attnbound_max_f32(const float *x, ptrdiff_t n);

/// max |x[i]| (exact); 0 for n = 0.
float attnbound_max_abs_f32(const float *x, ptrdiff_t n);

/// sum_i x[i]^2 in Double: each square is exact (48 significant bits), summed in 8 lanes, then the lanes and the
/// tail in order, so each term passes through at most n roundings (a norm's bound: ForwardErrorBound.norm).
double attnbound_sum_squares_f32(const float *x, ptrdiff_t n);

/// sum_c q[c]*x[c] in Float32 (16 lanes, then a fixed-order lane sum).
float attnbound_dot_f32(const float *q, const float *x, ptrdiff_t d);

/// sum_c (qpos[c]*hi[c] + qneg[c]*lo[c]): the bounding-box score of a page digest,
/// with qpos = max(q, 0) and qneg = min(q, 0) precomputed.
float attnbound_box_score_f32(const float *qpos, const float *qneg, const float *lo, const float *hi, ptrdiff_t d);

/// attnbound_box_score_f32 of `heads` queries (qpos, qneg: heads × d, row-major) against the digests (rows of lo, hi)
/// of pages[0..count): out[g·stride + i] for query g and pages[i], each bit for bit the single-query score (the
/// digests of a KV head are then read once for its whole GQA group).
void attnbound_box_scores_f32(const float *qpos, const float *qneg, ptrdiff_t heads, const float *lo, const float *hi,
                              ptrdiff_t d, const ptrdiff_t *pages, ptrdiff_t count, float *out, ptrdiff_t stride);

#endif
