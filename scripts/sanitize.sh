#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer and UndefinedBehaviorSanitizer (issue 11), each in its own
# scratch path (.build-asan, .build-ubsan; gitignored) so the main build is never disturbed.
#
# Release mode: the numerics are too slow unoptimised, and under ASan doubly so. The suite runs whole
# unless FILTER is set (a `swift test --filter` regex), e.g. FILTER='AttnCoreTests|AttnCertifiedTests'.
# Exit code: non-zero if either run fails or a sanitizer reports.
#
# Usage: scripts/sanitize.sh [address|undefined ...]     (default: both)
set -uo pipefail
cd "$(dirname "$0")/.."
kinds=("$@"); ((${#kinds[@]})) || kinds=(address undefined)
status=0
for k in "${kinds[@]}"; do
    scratch=.build-${k/address/asan}; scratch=${scratch/undefined/ubsan}
    mkdir -p "$scratch"
    log="$scratch/sanitize.log"
    start=$(date +%s)
    echo "sanitize: $k build in $scratch (log $log)" >&2
    if ! swift build -c release --build-tests --sanitize="$k" --scratch-path "$scratch" >"$log" 2>&1; then
        echo "sanitize: $k: build failed (see $log)" >&2; status=1; continue
    fi
    # halt_on_error: the first report fails the run; UBSan prints a stack for each report.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    if swift test -c release --skip-build --sanitize="$k" --scratch-path "$scratch" ${FILTER:+--filter "$FILTER"} >>"$log" 2>&1 \
        && ! grep -qE "ERROR: AddressSanitizer|runtime error:" "$log"; then
        echo "sanitize: $k: clean ($(grep -oE 'Test run with [0-9]+ tests? (in [0-9]+ suites? )?passed' "$log" | tail -1); $(( $(date +%s) - start ))s)" >&2
    else
        echo "sanitize: $k: FAILED (see $log)" >&2; grep -E "ERROR: AddressSanitizer|runtime error:|recorded an issue" "$log" | head -5 >&2
        status=1
    fi
done
exit $status
