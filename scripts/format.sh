#!/usr/bin/env bash
# The house format (.swift-format: 4-space indent, lines ≤ 120, swift-format's defaults
# otherwise; AlwaysUseLowerCamelCase is off because the numerics name things as the papers do
# — B, R, L, H —, and semicolons / several variables per declaration are kept for compact maths).
#   scripts/format.sh          rewrites every Swift file in Sources/, Tests/ and Package.swift in place
#   scripts/format.sh --check  changes nothing; exits 1 if any file is not formatted or breaks a rule
# Uses the toolchain's `swift format` (Swift 6 ships it), so no dependency is added.
set -euo pipefail
cd "$(dirname "$0")/.."
files=()
while IFS= read -r -d '' f; do files+=("$f"); done < <(
    find Sources Tests -name '*.swift' -not -path '*/.build/*' -not -path 'Tests/Consumer/Sources/*' -print0 | sort -z
)
files+=(Package.swift)
case "${1:-}" in
"")
    swift format format --configuration .swift-format --in-place --parallel "${files[@]}"
    ;;
--check)
    # --strict: formatting differences and rule findings are errors, so the exit code says it all.
    if ! swift format lint --configuration .swift-format --strict --parallel "${files[@]}"; then
        echo "error: files are not formatted (run scripts/format.sh)" >&2
        exit 1
    fi
    ;;
*)
    echo "usage: scripts/format.sh [--check]" >&2
    exit 2
    ;;
esac
