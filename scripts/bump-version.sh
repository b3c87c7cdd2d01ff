#!/usr/bin/env bash
# The release version lives in two places: Sources/AttnCore/Version.swift (printed by
# --version and written into every sidecar) and CITATION.cff (what papers cite).
#   scripts/bump-version.sh X.Y.Z    sets both, and CITATION.cff's date-released to today (UTC)
#   scripts/bump-version.sh --check  exits 1 unless they agree (run by scripts/test.sh;
#                                    the Swift test VersionTests checks the same)
set -euo pipefail
cd "$(dirname "$0")/.."
swift_file=Sources/AttnCore/Version.swift
cff=CITATION.cff

swift_version() { sed -n 's/^ *public static let current = "\([^"]*\)".*/\1/p' "$swift_file"; }
cff_version() { sed -n 's/^version: *"\{0,1\}\([^" ]*\)"\{0,1\} *$/\1/p' "$cff"; }

# Rewrites a file through a temp file in the same folder, then renames (never half-written).
rewrite() {
    local file=$1 expr=$2 tmp
    tmp=$(mktemp "$file.XXXXXX")
    cp -p "$file" "$tmp" # keep the file's mode
    sed "$expr" "$file" >"$tmp"
    mv "$tmp" "$file"
}

check() {
    local s c
    s=$(swift_version) c=$(cff_version)
    if [[ -z "$s" || "$s" != "$c" ]]; then
        echo "error: version mismatch: $swift_file says '$s', $cff says '$c' (run scripts/bump-version.sh X.Y.Z)" >&2
        exit 1
    fi
    echo "version $s (Version.swift and CITATION.cff agree)"
}

case "${1:-}" in
--check)
    check
    ;;
[0-9]*.[0-9]*.[0-9]*)
    v=$1
    if ! [[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
        echo "error: version '$v' is not X.Y.Z" >&2
        exit 2
    fi
    rewrite "$swift_file" "s/^\( *public static let current = \)\"[^\"]*\"/\1\"$v\"/"
    rewrite "$cff" "s/^version: .*/version: $v/; s/^date-released: .*/date-released: $(date -u +%F)/"
    check
    ;;
*)
    echo "usage: scripts/bump-version.sh X.Y.Z | --check" >&2
    exit 2
    ;;
esac
