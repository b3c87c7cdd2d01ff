#!/usr/bin/env bash
# The README's "Use from Swift" example, compiled and run from a package that depends on
# this one by path (Tests/Consumer): extracts the README's first ```swift block into
# Tests/Consumer/Sources/Consumer/main.swift, builds it (debug: it only runs a tiny example,
# and a debug build of the library is quicker than a second release build), runs it.
# Exits non-zero if the block is missing, does not compile, or throws.
set -euo pipefail
cd "$(dirname "$0")/.."
consumer=Tests/Consumer
main=$consumer/Sources/Consumer/main.swift
mkdir -p "$(dirname "$main")"
tmp=$(mktemp "$main.XXXXXX")
trap 'rm -f "$tmp"' EXIT
awk '/^```swift[[:space:]]*$/ { inside = 1; next } inside && /^```[[:space:]]*$/ { exit } inside { print }' README.md >"$tmp"
if [[ ! -s "$tmp" ]]; then
    echo "error: README.md has no \`\`\`swift block" >&2
    exit 1
fi
# Replace main.swift only when the example changed, so an unchanged example is not recompiled.
if cmp -s "$tmp" "$main"; then rm -f "$tmp"; else mv "$tmp" "$main"; fi
# SwiftPM caches a dependency's file list: re-plan (cheap) so files added to attnbound are seen.
touch "$consumer/Package.swift"
swift build --package-path "$consumer" --quiet
"$(swift build --package-path "$consumer" --show-bin-path)/Consumer"
