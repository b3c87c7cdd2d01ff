#!/usr/bin/env bash
# Fuzzes the .safetensors and .npz readers (TensorFile, Safetensors, Npz) with libFuzzer + AddressSanitizer,
# as scripts/fuzz-npy.sh fuzzes .npy (issue 24). Compiles the AttnCore sources the readers need, the system
# zlib shim and Tests/Fuzz/ReadersFuzzHarness.swift into .build-fuzz/ (never the package build), then runs
# RUNS executions (default 1,000,000) from the corpus in Tests/Fuzz/readers-corpus (fixtures laid out by
# NumPy and by hand). New inputs go to .build-fuzz/readers-corpus (gitignored).
# Exit code: 0 when no crash, libFuzzer's otherwise (the crashing input is written to .build-fuzz/).
#
# Usage: scripts/fuzz-readers.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-1000000}
OUT=.build-fuzz
mkdir -p "$OUT/readers-corpus"
SRC=(Sources/AttnCore/Npy.swift Sources/AttnCore/Npy+File.swift Sources/AttnCore/FileIO.swift Sources/AttnCore/Npz.swift Sources/AttnCore/Safetensors.swift
     Sources/AttnCore/TensorFile.swift Sources/AttnCore/StorageType.swift Sources/AttnCore/Tensor.swift Sources/AttnCore/FiniteScan.swift
     Sources/AttnCore/AttnError.swift Sources/AttnCore/AtomicFile.swift Tests/Fuzz/ReadersFuzzHarness.swift)
swiftc -O -sanitize=fuzzer,address -parse-as-library -package-name attnbound -module-name AttnCoreFuzz \
    -I Sources/CZlib -lz "${SRC[@]}" -o "$OUT/readers-fuzz" 2>&1 | { grep -v "Cannot export local symbol" || true; }
cp -n Tests/Fuzz/readers-corpus/* "$OUT/readers-corpus/" 2>/dev/null || true
cd "$OUT"
./readers-fuzz -runs="$RUNS" -max_len=4096 -print_final_stats=1 readers-corpus 2>&1 | tail -25
