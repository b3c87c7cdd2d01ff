#!/usr/bin/env bash
# The main job: installs what is missing, builds, runs `attnbound sweep`
# (the B = Θ(√log n) threshold experiments) into ./out/: sweep.csv, sweep.json, sweep.svg.
# Arguments are passed on to the sweep (e.g. --out DIR, --seed S, --resume).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product attnbound
exec .build/release/attnbound sweep "$@"
