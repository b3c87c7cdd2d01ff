#!/usr/bin/env bash
# Executes every Jupytext notebook in notebooks-md/ on a small grid, so they never rot.
#
#   notebooks-md/run_notebooks.sh            # small grid (what CI runs)
#   NOTEBOOK_SMALL=0 notebooks-md/run_notebooks.sh   # the full default grids
#
# Creates a local venv (.venv-notebooks at the repository root, or $NOTEBOOK_VENV) with jupytext,
# nbclient, ipykernel and matplotlib; builds attnbound in release mode if $ATTNBOUND is not set and
# the binary is missing. Executed notebooks (.ipynb, with outputs) go to out/notebooks/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="${NOTEBOOK_VENV:-$root/.venv-notebooks}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# Keep the venv out of git without touching the repository's .gitignore.
[ -f "$venv/.gitignore" ] || echo '*' > "$venv/.gitignore"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check jupytext nbclient ipykernel matplotlib

export ATTNBOUND="${ATTNBOUND:-$root/.build/release/attnbound}"
if [ ! -x "$ATTNBOUND" ]; then
  (cd "$root" && swift build -c release --product attnbound)
fi
export NOTEBOOK_SMALL="${NOTEBOOK_SMALL:-1}"
out="${NOTEBOOK_OUT:-$root/out/notebooks}"
mkdir -p "$out"

status=0
for md in "$here"/*.md; do
  name="$(basename "$md" .md)"
  [ "$name" = "README" ] && continue
  echo "notebook: $name"
  "$venv/bin/jupytext" --quiet --to ipynb --output "$out/$name.ipynb" "$md"
  if ! "$venv/bin/python" - "$out/$name.ipynb" "$here" <<'PY'
import sys, nbformat
from nbclient import NotebookClient
path, cwd = sys.argv[1], sys.argv[2]
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": cwd}}).execute()
nbformat.write(nb, path)
PY
  then
    echo "error: notebook $name failed" >&2
    status=1
  fi
done
exit $status
