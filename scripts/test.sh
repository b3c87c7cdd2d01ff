#!/usr/bin/env bash
# The whole test suite: installs what is missing, then runs every test
# (release build: the numerics are too slow unoptimised).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product attnbound
swift test -c release "$@"
