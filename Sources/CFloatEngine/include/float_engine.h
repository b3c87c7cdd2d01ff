// The float engine's two loops over a row of scores, vectorised
// (Proofs/float-certified-engine.md, §3 and §4; Swift caller: FloatAttentionEngine).
#ifndef ATTNBOUND_FLOAT_ENGINE_H
#define ATTNBOUND_FLOAT_ENGINE_H
#include <stddef.h>

// max_j g[j] over n >= 1 doubles, or NaN if any g[j] is NaN or infinite.
double attnbound_fe_row_max(const double *g, ptrdiff_t n);

// In place over row[0..<count]: for j < visible, t = fl(s*row[j]), x = fl(t - m),
// row[j] = x < -700 ? 0 : FloatExp(x); for j >= visible, row[j] = 0.
// Returns fl(sum over the bulk of row[j]*(-x)) in some order (X-hat of §4).
// Precondition: m = fl(s * max_j row[j]) over j < visible, so every x <= 0.
double attnbound_fe_weights(double *row, ptrdiff_t visible, ptrdiff_t count, double s, double m);

// FloatExp(x) for one x in [-700, 0]: the same operations as every lane of attnbound_fe_weights.
double attnbound_fe_exp(double x);

// Which code path runs: 2 = AVX-512, 1 = AVX2+FMA, 0 = portable C (no FMA).
int attnbound_fe_isa(void);

// The same, on a chosen path (clamped to the best the machine has): for tests of every path.
double attnbound_fe_row_max_on(int isa, const double *g, ptrdiff_t n);
double attnbound_fe_weights_on(int isa, double *row, ptrdiff_t visible, ptrdiff_t count, double s, double m);
double attnbound_fe_exp_on(int isa, double x);

// The same two loops under an explicit mask (mask[j] != 0: visible): the maximum is over visible keys
// (-INFINITY if none; NaN if a visible score is NaN or infinite), hidden keys get weight 0 and add
// nothing to X-hat, whatever their score.
double attnbound_fe_row_max_masked_on(int isa, const double *g, const unsigned char *mask, ptrdiff_t n);
double attnbound_fe_weights_masked_on(int isa, double *row, const unsigned char *mask, ptrdiff_t count, double s,
                                      double m);

// The score terms of a row (Proofs/float-certified-engine.md §7): what FloatScoreTerms passes.
typedef struct {
    double s, b, zq, c0;        // s-hat, and |a-hat - a| <= b|a-hat| + zq*knorm[j] + c0 (§4)
    double cap;                 // the softcap c > 0, or 0 for none
    double slope, diag;         // ALiBi: score -= slope*|diag - j| (diag = i' minus the first key's index)
    int alibi;                  // whether ALiBi applies
    const double *bias;         // bias of key j at bias[j * bias_stride], or NULL
    ptrdiff_t bias_stride;
    const double *knorm;        // upper bounds on ||k_j||, key j at knorm[j]
    double a, k1, k2;           // u/(1-u) and tanh's constants, rounded up
} attnbound_fe_terms;

// In place over row[0..<count] (g-hat from dgemm): row[j] = tau-hat_j, the score with its terms, and
// delta[j] with |tau-hat_j - score_j| <= delta[j]*(1 + 2^-40); hidden keys (mask[j] == 0) get 0 and 0.
void attnbound_fe_scores_on(int isa, double *row, double *delta, const unsigned char *mask, ptrdiff_t count,
                            const attnbound_fe_terms *p);

// In place: row[j] = tau-hat_j -> w-hat_j = FloatExp(fl(tau-hat_j - M)) (0 in the tail x < -700 and for
// hidden keys). out[0] = X-hat = sum w|x|, out[1] = D-hat = sum w*delta (NaN if a visible delta is),
// out[2] = max delta over the bulk. Returns 0, or NaN when a tail key's delta is too large (§7).
// Precondition: M >= every visible tau-hat_j.
double attnbound_fe_weights_terms_on(int isa, double *row, const double *delta, const unsigned char *mask,
                                     ptrdiff_t count, double M, double *out);

// FloatExp's constants: 1/ln2, ln2 = C1 + C2 + C3, the tail threshold -700, and 1/m! for m = 0...13.
extern const double attnbound_fe_inv_ln2, attnbound_fe_c1, attnbound_fe_c2, attnbound_fe_tail;
double attnbound_fe_coefficient(int m);
#endif
