#!/usr/bin/env bash
# The main job: installs what is missing, builds, runs it. Arguments are passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product attnbound
exec .build/release/attnbound demo "$@"
