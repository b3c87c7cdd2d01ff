#!/usr/bin/env bash
# Checks every compiled copy of the Float32 exp on every float in [-87.33, 0) (and the flush to 0 below it):
# the three target_clones of vector_math.c (each compiled here as its own object, as the clone is: x86-64-v4 and
# x86-64-v3 with FMA contraction, the default without) and the three ISA copies of the fused kernel that the CPU
# runs. Fails if any exceeds eta = 2^-21 (Proofs/online-softmax-error.md). About 10-30 s on 2 cores; run by
# scripts/test.sh (ATTNBOUND_EXP_CHECK=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
inc=-ISources/CVectorMath/include
# Every function vector_math.h declares gets a per-copy name, so that the three objects link side by side; the exp
# becomes exp_v4, exp_v3, exp_v1, the names exp_exhaustive.c calls.
rename() {
    grep -o 'attnbound_[a-z0-9_]*_f32(' Sources/CVectorMath/include/vector_math.h | sort -u | tr -d '(' |
        sed -e "s/^attnbound_exp_shifted_sum_f32$/&=exp_$1/" -e "s/^attnbound_\([a-z0-9_]*\)_f32$/&=\1_$1/" -e 's/^/-D/'
}
# -U__linux__ turns target_clones off, so -march decides the copy, as the clone's target attribute does.
clang -O2 $inc -U__linux__ -march=x86-64-v4 $(rename v4) -c Sources/CVectorMath/vector_math.c -o "$dir/v4.o" 2>/dev/null
clang -O2 $inc -U__linux__ -march=x86-64-v3 $(rename v3) -c Sources/CVectorMath/vector_math.c -o "$dir/v3.o" 2>/dev/null
clang -O2 $inc -U__linux__ $(rename v1) -c Sources/CVectorMath/vector_math.c -o "$dir/v1.o" 2>/dev/null
clang -O2 $inc -c Sources/CVectorMath/fused_attention.c -o "$dir/fused.o"
clang -O2 $inc scripts/exp_exhaustive.c "$dir"/*.o -lm -lpthread -o "$dir/exp_exhaustive"
"$dir/exp_exhaustive"
