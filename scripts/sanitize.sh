#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer and UndefinedBehaviorSanitizer (issue 11), each in its own
# scratch path (.build-asan, .build-ubsan; gitignored) so the main build is never disturbed.
#
# Release mode: the numerics are too slow unoptimised, and under ASan doubly so. The suite runs whole
# unless FILTER is set (a `swift test --filter` regex), e.g. FILTER='AttnCoreTests|AttnCertifiedTests'.
# Exit code: non-zero if either run fails or a sanitizer reports.
#
# UndefinedBehaviorSanitizer: Swift 6.3.1 on Linux rejects `swift build --sanitize=undefined` ("error: unsupported
# option '-sanitize=undefined' for target 'x86_64-unknown-linux-gnu'"); Swift's own arithmetic traps on overflow
# anyway. So `undefined` instruments the C targets (CVectorMath) with clang's -fsanitize=undefined, made fatal
# by -fno-sanitize-recover, and links clang's UBSan runtime through swiftc's clang linker driver.
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
    if [[ $k == undefined ]]; then
        flags=(-Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined
               -Xswiftc -Xclang-linker -Xswiftc -fsanitize=undefined)
    else
        flags=(--sanitize="$k")
    fi
    if ! swift build -c release --build-tests "${flags[@]}" --scratch-path "$scratch" >"$log" 2>&1; then
        echo "sanitize: $k: build failed (see $log)" >&2; status=1; continue
    fi
    # halt_on_error: the first report fails the run; UBSan prints a stack for each report.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    if swift test -c release --skip-build "${flags[@]}" --scratch-path "$scratch" ${FILTER:+--filter "$FILTER"} >>"$log" 2>&1 \
        && ! grep -qE "ERROR: AddressSanitizer|runtime error:" "$log"; then
        echo "sanitize: $k: clean ($(grep -oE 'Test run with [0-9]+ tests? (in [0-9]+ suites? )?passed' "$log" | tail -1); $(( $(date +%s) - start ))s)" >&2
    else
        echo "sanitize: $k: FAILED (see $log)" >&2; grep -E "ERROR: AddressSanitizer|runtime error:|recorded an issue" "$log" | head -5 >&2
        status=1
    fi
done
exit $status
