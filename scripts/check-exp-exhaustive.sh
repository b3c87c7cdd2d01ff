#!/usr/bin/env bash
# Checks the vectorised exp on every float in [-87.3, 0): prints the worst relative error.
# The bound the kernels rely on is 2^-21 (Proofs/online-softmax-error.md).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)/exp_exhaustive
clang -O2 -ISources/CVectorMath/include scripts/exp_exhaustive.c Sources/CVectorMath/vector_math.c -lm -o "$out"
"$out"
