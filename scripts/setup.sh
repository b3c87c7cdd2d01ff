#!/usr/bin/env bash
# Installs what attnbound needs, only what is missing. Idempotent and fast
# when everything is present. Debian/Ubuntu: apt-get. macOS: prints the brew line.
set -euo pipefail

pkgs=(libgmp-dev libmpfr-dev liblapacke-dev libopenblas-dev zlib1g-dev pkg-config python3)

if [[ "$(uname -s)" == "Darwin" ]]; then
    echo "macOS: run   brew install gmp mpfr openblas lapack pkg-config   (and use a Swift 6.1+ toolchain)" >&2
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: no apt-get here; install: ${pkgs[*]} (or your distribution's equivalents)" >&2
    exit 0
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
    echo "setup: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The notebooks run in a venv: Debian's python3 needs python3-venv for that.
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
    echo "setup: installing python3-venv" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv python3-pip >/dev/null
fi

command -v swift >/dev/null 2>&1 || { echo "setup: no 'swift' on PATH; install Swift 6.1+ from swift.org" >&2; exit 1; }
