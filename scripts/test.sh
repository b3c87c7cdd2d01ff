#!/usr/bin/env bash
# The whole test suite: installs what is missing, runs every Swift test
# (release build: the numerics are too slow unoptimised), then executes every
# notebook in notebooks-md/ on a small grid so they never rot.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --build-tests
swift test -c release --skip-build "$@"
notebooks-md/run_notebooks.sh
