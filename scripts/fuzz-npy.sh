#!/usr/bin/env bash
# Fuzzes the .npy reader and header parser with libFuzzer + AddressSanitizer (issue 11).
# Compiles the AttnCore sources the reader needs plus Tests/Fuzz/NpyFuzzHarness.swift with
# `swiftc -sanitize=fuzzer,address -parse-as-library` into .build-fuzz/ (never the package build),
# then runs RUNS executions (default 1,000,000) starting from the small corpus in Tests/Fuzz/corpus.
# New interesting inputs go to .build-fuzz/corpus (gitignored), so the repository's corpus stays small.
# Exit code: 0 when no crash, libFuzzer's otherwise (the crashing input is written to .build-fuzz/).
#
# Usage: scripts/fuzz-npy.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-1000000}
OUT=.build-fuzz
mkdir -p "$OUT/corpus"
SRC=(Sources/AttnCore/Npy.swift Sources/AttnCore/Tensor.swift Sources/AttnCore/AttnError.swift
     Sources/AttnCore/AtomicFile.swift Tests/Fuzz/NpyFuzzHarness.swift)
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name AttnCoreFuzz "${SRC[@]}" -o "$OUT/npy-fuzz" 2>&1 \
    | { grep -v "Cannot export local symbol" || true; }
cp -n Tests/Fuzz/corpus/* "$OUT/corpus/" 2>/dev/null || true
"$OUT/npy-fuzz" -runs="$RUNS" -max_len=4096 -artifact_prefix="$OUT/" -print_final_stats=1 "$OUT/corpus" 2>&1 | tail -25
