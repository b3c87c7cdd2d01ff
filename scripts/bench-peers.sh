#!/usr/bin/env bash
# attnbound's exact kernel beside PyTorch SDPA (CPU) on identical seeded inputs.
#
# Creates .venv-peers/ (gitignored) with torch and numpy from PyPI on first use,
# builds attnbound (release), then for each configuration: attnbound writes the
# Q, K, V it benchmarks (`bench exact --inputs-out`), PyTorch loads them, and the
# two are timed alternately ROUNDS times (interleaved, so load on a shared
# machine hits both alike). Prints medians and the ratio torch_s / attnbound_s
# (> 1: attnbound is faster), all measured in this run.
#
# Last, `attnbound verify` (whole process: read the .npy files, certify) of a float32 PyTorch SDPA
# output, n = 4096, d = 128, 8 heads, beside PyTorch's float64 SDPA on the same tensors: issue 10's
# target is verify ≤ 5× torch F64 (the ratio printed is verify_s / torch_s, < 5 meets it). Then the
# same with masks (issue 20: ≤ 3× torch F64 SDPA given the equivalent additive attn_mask): causal, and
# a sliding window of 512 keys (`--window 511,0`), and Gemma 2's softcap 30 (`--softcap 30`, against
# torch's float64 softcap math, as SDPA has none).
#
# Backward (issue 21): the fused Float32 backward in process (it computes its own forward statistics)
# beside PyTorch CPU autograd of SDPA (forward + backward, in process) on the same Q, K, V, dO at n = 4096,
# d = 64 and 128 (target torch/ours >= 1), with the whole `attnbound attention --do` process (start-up and
# .npy reading and writing included) printed beside it; and `attnbound verify --do` of torch's float32 dQ, dK,
# dV (whole process) beside torch's float64 autograd (target verify/torch <= 5).
#
# Then the whole `attention` process on a Llama-3-8B-shaped causal layer ([1, 32, 8192, 128] Q, 8 KV
# heads, float32) beside torch's np.load + SDPA + np.save of the same files (issue 22: torch/ours ≥ 1).
#
# Usage: scripts/bench-peers.sh [--rounds R] [--threads T] [--quick] [--verify-only] [--whole-only] [--backward-only]
#   --quick: n = 1024 and 4096 only (the full set adds n = 8192).
#   --verify-only: only the verify comparison.
#   --whole-only: only the whole-process attention comparison.
#   --backward-only: only the backward comparisons.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=3; THREADS=$(nproc); SIZES="1024 4096 8192"; VERIFY_ONLY=0; WHOLE_ONLY=0; BACKWARD_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --quick) SIZES="1024 4096"; shift ;;
    --verify-only) VERIFY_ONLY=1; shift ;;
    --whole-only) WHOLE_ONLY=1; shift ;;
    --backward-only) BACKWARD_ONLY=1; shift ;;
    *) echo "error: unknown option $1 (use --rounds R, --threads T, --quick, --verify-only, --whole-only, --backward-only)" >&2; exit 2 ;;
  esac
done
VENV=.venv-peers
if ! "$VENV/bin/python" -c "import torch, numpy" 2>/dev/null; then
  python3 -m venv "$VENV"
  # The default torch wheel on Linux also pulls CUDA packages (several GB); only the CPU path is used.
  "$VENV/bin/pip" install --quiet torch numpy
fi
swift build -c release --product attnbound >/dev/null
BIN=.build/release/attnbound
DIR=$(mktemp -d "${TMPDIR:-/tmp}/attnbound-peers.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
"$BIN" bench exact --n 64 --runs 1 | head -1   # the BLAS line
verify_case() {
  "$VENV/bin/python" scripts/bench_peers.py verify "$DIR" "$ROUNDS" "$THREADS" "$BIN" 4096 128 8
  for mask in causal window:511 softcap:30; do
    "$VENV/bin/python" scripts/bench_peers.py verify-masked "$DIR" "$ROUNDS" "$THREADS" "$BIN" 4096 128 8 "$mask"
  done
}
whole_case() {
  "$VENV/bin/python" scripts/bench_peers.py whole "$DIR" "$ROUNDS" "$THREADS" "$BIN" 32 8 8192 128
}
verify_backward_case() {
  "$VENV/bin/python" scripts/bench_peers.py verify-backward "$DIR" "$ROUNDS" "$THREADS" "$BIN" 4096 128 1
}
backward_cases() {
  for d in 64 128; do
    "$VENV/bin/python" scripts/bench_peers.py backward "$DIR" "$ROUNDS" "$THREADS" "$BIN" 4096 "$d"
  done
  verify_backward_case
}
if [ "$VERIFY_ONLY" = 1 ]; then verify_case; exit 0; fi
if [ "$WHOLE_ONLY" = 1 ]; then whole_case; exit 0; fi
echo "torch $("$VENV/bin/python" -c 'import torch; print(torch.__version__, "threads", torch.get_num_threads())'), attnbound threads $THREADS, $ROUNDS interleaved rounds, medians"
printf "%-28s %12s %12s %10s\n" "case" "attnbound s" "torch s" "torch/ours"
if [ "$BACKWARD_ONLY" = 1 ]; then backward_cases; exit 0; fi

# run_case LABEL PRECISION CAUSAL(0|1) QUERIES(-|N) D SIZES...
run_case() {
  local label="$1" prec="$2" causal="$3" queries="$4" d="$5"; shift 5
  local flags=(--d "$d" --precision "$prec" --threads "$THREADS" --runs 3 --json --n "$@")
  [ "$causal" = 1 ] && flags+=(--causal)
  [ "$queries" != - ] && flags+=(--queries "$queries")
  local names=() ours=() torch=()
  for n in "$@"; do names+=("n${n}_q$([ "$queries" = - ] && echo "$n" || echo "$queries")_d${d}"); done
  "$BIN" bench exact "${flags[@]}" --runs 1 --inputs-out "$DIR" >/dev/null
  for _ in $(seq "$ROUNDS"); do
    ours+=("$("$BIN" bench exact "${flags[@]}")")
    torch+=("$("$VENV/bin/python" scripts/bench_peers.py "$DIR" 3 "$THREADS" "$causal" "$prec" "${names[@]}")")
  done
  python3 - "$label" "$d" "${names[*]}" "${#ours[@]}" "${ours[@]}" "${torch[@]}" <<'PY'
import json, statistics, sys
label, d, names, r = sys.argv[1], sys.argv[2], sys.argv[3].split(), int(sys.argv[4])
ours = [json.loads(x) for x in sys.argv[5:5 + r]]
torch = [json.loads(x) for x in sys.argv[5 + r:5 + 2 * r]]
for i, name in enumerate(names):
    a = statistics.median(o["results"][i]["seconds"] for o in ours)
    t = statistics.median(x[name] for x in torch)
    print(f"{label + ' ' + name:28s} {a:12.5f} {t:12.5f} {t / a:10.2f}")
PY
}
for d in 64 128; do
  run_case "f32" float32 0 - "$d" $SIZES
  run_case "f32 causal" float32 1 - "$d" $SIZES
done
run_case "f64" float64 0 - 128 4096
run_case "f32 decode" float32 0 1 64 32768
run_case "f32 decode" float32 0 1 128 32768
verify_case
whole_case
backward_cases
