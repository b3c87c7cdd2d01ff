#!/usr/bin/env bash
# Fuzzes the .npy reader and header parser with libFuzzer + AddressSanitizer (issue 11).
# Compiles the AttnCore sources the reader needs plus Tests/Fuzz/NpyFuzzHarness.swift with
# `swiftc -sanitize=fuzzer,address -parse-as-library` into .build-fuzz/ (never the package build),
# then runs RUNS executions (default 1,000,000) starting from the small corpus in Tests/Fuzz/corpus.
# New interesting inputs go to .build-fuzz/corpus (gitignored), so the repository's corpus stays small.
# Exit code: 0 when no crash, libFuzzer's otherwise (the crashing input is written to .build-fuzz/).
#
# Usage: scripts/fuzz-npy.sh [RUNS]        JOBS=2 scripts/fuzz-npy.sh 500000  (two processes, RUNS each;
#        their logs go to .build-fuzz/fuzz-N.log)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-1000000}
OUT=.build-fuzz
mkdir -p "$OUT/corpus"
SRC=(Sources/AttnCore/Npy.swift Sources/AttnCore/Npy+File.swift Sources/AttnCore/FileIO.swift Sources/AttnCore/Tensor.swift Sources/AttnCore/FiniteScan.swift Sources/AttnCore/AttnError.swift
     Sources/AttnCore/AtomicFile.swift Tests/Fuzz/NpyFuzzHarness.swift)
swiftc -O -sanitize=fuzzer,address -parse-as-library -package-name attnbound -module-name AttnCoreFuzz "${SRC[@]}" -o "$OUT/npy-fuzz" 2>&1 \
    | { grep -v "Cannot export local symbol" || true; }
cp -n Tests/Fuzz/corpus/* "$OUT/corpus/" 2>/dev/null || true
JOBS=${JOBS:-1}
cd "$OUT"
if ((JOBS > 1)); then
    ./npy-fuzz -runs="$RUNS" -jobs="$JOBS" -workers="$JOBS" -max_len=4096 -print_final_stats=1 corpus >/dev/null 2>&1 || status=$?
    tail -n 12 fuzz-*.log
    grep -l "ERROR\|deadly signal\|crash-" fuzz-*.log && exit 1
    exit ${status:-0}
fi
./npy-fuzz -runs="$RUNS" -max_len=4096 -print_final_stats=1 corpus 2>&1 | tail -25
