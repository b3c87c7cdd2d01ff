"""PyTorch SDPA beside attnbound, on identical .npy inputs. Called by scripts/bench-peers.sh.

Usage:
  bench_peers.py DIR RUNS THREADS CAUSAL(0|1) DTYPE(float32|float64) NAME...
      SDPA on the inputs that `attnbound bench exact --inputs-out` wrote, each run after a 256 MiB copy
      that flushes the caches (as attnbound's runs follow its yardsticks); prints one JSON line
      {name: median seconds}.
  bench_peers.py verify DIR ROUNDS THREADS BIN N D HEADS
      Writes seeded float32 Q, K, V [1, HEADS, N, D] and a float32 candidate from torch's own
      float32 SDPA, then alternates ROUNDS times: the whole `BIN verify` process (wall clock, read +
      certify) and torch's float64 SDPA on the same tensors (in process, median of 3). Prints the
      medians and their ratio, then one line "json: {...}" with every run and verify's report.
  bench_peers.py verify-masked DIR ROUNDS THREADS BIN N D HEADS MASK
      The same with a mask, MASK = causal or window:L (keys i − L … i): the candidate is torch's float32
      SDPA and the peer torch's float64 SDPA, both given the equivalent additive attn_mask (0 visible,
      −inf hidden); `BIN verify` gets `--causal` or `--window L,0` (issue 20's target: ≤ 3× torch).
      MASK = softcap:C (Gemma 2's C·tanh(x/C) of the scaled scores, no mask): SDPA has no softcap, so the
      candidate (float32) and the peer (float64) are torch's own math, softmax(C·tanh(s·QKᵀ/C))·V, the
      reference a kernel author would write; `BIN verify` gets `--softcap C`.
  bench_peers.py whole DIR ROUNDS THREADS BIN HEADS KV_HEADS N D
      Writes seeded float32 Q [1, HEADS, N, D] and K, V [1, KV_HEADS, N, D], then alternates ROUNDS
      times: the whole `BIN attention --causal` process (read, attend under GQA, write) and torch in
      process: np.load of the three files, SDPA(is_causal, enable_gqa), np.save of the output. Beside
      them: the kernel's time (HEADS × `BIN bench exact` of one head, same n, d, causal) and the file
      I/O at this machine's measured file bandwidth (the three inputs read, the output written and
      fsynced, as `attention` does), so whole / (kernel + I/O) says what the process adds.
  bench_peers.py backward DIR ROUNDS THREADS BIN N D
      Alternates ROUNDS times, on the same float32 Q, K, V, dO [N, D]: the fused Float32 backward in
      process (`BIN bench exact --backward --inputs-out`, median of 3; it computes its own forward row
      statistics, so it does the work of a forward and a backward) and PyTorch CPU autograd of SDPA (forward
      + backward, in process, median of 3) on the tensors that run wrote: torch_s / ours_s is issue 21's
      target (>= 1), kernel against kernel. Beside them, for information, the whole
      `BIN attention --do … --dq-out … --dk-out … --dv-out …` process (start-up, reading four .npy files,
      writing three) on the same files.
  bench_peers.py verify-backward DIR ROUNDS THREADS BIN N D HEADS
      As `verify`, for the gradients: float32 Q, K, V, dO and torch's float32 autograd dQ, dK, dV as
      candidates; the whole `BIN verify --do … --dq-candidate … --dk-candidate … --dv-candidate …`
      process against torch's float64 autograd of SDPA (forward + backward) on the same tensors.
"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


_FLUSH = None


def flush_caches():
    """Copies 256 MiB, as `attnbound bench exact` does (its copy-bandwidth yardstick) before each timed run:
    so both time K and V read from memory, not from a warm last-level cache (a 32k-key d = 64 head, 16 MB,
    fits in this machine's L3; a decode step over a model's layers does not)."""
    global _FLUSH
    if _FLUSH is None:
        _FLUSH = (np.ones(64 << 20, dtype=np.float32), np.empty(64 << 20, dtype=np.float32))
    np.copyto(_FLUSH[1], _FLUSH[0])


def sdpa_seconds(q, k, v, runs, is_causal=False, attn_mask=None, cold=False):
    with torch.inference_mode():
        F.scaled_dot_product_attention(q, k, v, is_causal=is_causal, attn_mask=attn_mask)
        times = []
        for _ in range(runs):
            if cold:
                flush_caches()
            t = time.perf_counter()
            F.scaled_dot_product_attention(q, k, v, is_causal=is_causal, attn_mask=attn_mask)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def autograd_seconds(q, k, v, do, runs, is_causal=False):
    """Median seconds of SDPA forward + backward (the training step's attention) by autograd."""
    q, k, v = (x.detach().clone().requires_grad_(True) for x in (q, k, v))

    def step():
        q.grad = k.grad = v.grad = None
        F.scaled_dot_product_attention(q, k, v, is_causal=is_causal).backward(do)

    step()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def backward(folder, rounds, threads, binary, n, d):
    torch.set_num_threads(threads)
    bench = [binary, "bench", "exact", "--n", str(n), "--d", str(d), "--backward", "--runs", "3",
             "--threads", str(threads), "--inputs-out", folder, "--json"]
    tag = f"n{n}_q{n}_d{d}"
    files = {name: f"{folder}/{name}_{tag}.npy" for name in ["q", "k", "v", "do"]}
    whole = [binary, "attention", "--q", files["q"], "--k", files["k"], "--v", files["v"], "--do", files["do"],
             "--dq-out", f"{folder}/dq.npy", "--dk-out", f"{folder}/dk.npy", "--dv-out", f"{folder}/dv.npy",
             "--precision", "float32"]
    ours, theirs, process = [], [], []
    for _ in range(rounds):
        run = subprocess.run(bench, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"error: attnbound bench exact --backward failed: {run.stderr.strip()}")
        ours.append(json.loads(run.stdout)["results"][0]["seconds"])
        tq, tk, tv, tdo = (torch.from_numpy(np.load(files[x]))[None, None] for x in ["q", "k", "v", "do"])
        theirs.append(autograd_seconds(tq, tk, tv, tdo, 3))
        t = time.perf_counter()
        run = subprocess.run(whole, capture_output=True, text=True)
        process.append(time.perf_counter() - t)
        if run.returncode != 0:
            sys.exit(f"error: attnbound attention --do failed: {run.stderr.strip()}")
    a, t, w = statistics.median(ours), statistics.median(theirs), statistics.median(process)
    print(f"backward f32 n{n}_d{d}: attnbound {a:.4f} s (fused backward, in process), torch autograd {t:.4f} s "
          f"(forward + backward, in process): torch/ours {t / a:.2f}x (target >= 1); whole attention --do process "
          f"{w:.4f} s (torch/whole {t / w:.2f}x); medians of {rounds} interleaved rounds")
    print("json: " + json.dumps({"attnbound_seconds": a, "torch_seconds": t, "ratio": t / a, "n": n, "d": d,
                                 "whole_process_seconds": w, "attnbound_runs": ours, "torch_runs": theirs,
                                 "whole_process_runs": process}))


def verify_backward(folder, rounds, threads, binary, n, d, heads):
    torch.set_num_threads(threads)
    g = np.random.default_rng(20261204)
    q, k, v, do = (g.standard_normal((1, heads, n, d)).astype(np.float32) for _ in range(4))
    tq, tk, tv = (torch.from_numpy(x).requires_grad_(True) for x in (q, k, v))
    F.scaled_dot_product_attention(tq, tk, tv).backward(torch.from_numpy(do))
    for name, x in zip(["q", "k", "v", "do", "dq", "dk", "dv"], (q, k, v, do, tq.grad.numpy(), tk.grad.numpy(), tv.grad.numpy())):
        np.save(f"{folder}/{name}.npy", x)
    q64, k64, v64, do64 = (torch.from_numpy(x).to(torch.float64) for x in (q, k, v, do))
    cmd = [binary, "verify", "--q", f"{folder}/q.npy", "--k", f"{folder}/k.npy", "--v", f"{folder}/v.npy",
           "--do", f"{folder}/do.npy", "--dq-candidate", f"{folder}/dq.npy", "--dk-candidate", f"{folder}/dk.npy",
           "--dv-candidate", f"{folder}/dv.npy", "--atol", "1e-4", "--threads", str(threads), "--json"]
    ours, torch64, report = [], [], None
    for _ in range(rounds):
        t = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True)
        ours.append(time.perf_counter() - t)
        if run.returncode not in (0, 1):
            sys.exit(f"error: attnbound verify failed: {run.stderr.strip()}")
        report = json.loads(run.stdout)
        torch64.append(autograd_seconds(q64, k64, v64, do64, 3))
    a, t = statistics.median(ours), statistics.median(torch64)
    print(f"verify gradients n{n}_d{d}_h{heads} (float32 torch autograd candidates): attnbound verify {a:.3f} s "
          f"(whole process), torch F64 autograd {t:.4f} s: verify/torch {a / t:.2f}x (target <= 5x), "
          f"medians of {rounds} interleaved rounds")
    for name, x in report["gradients"].items():
        print(f"  {name}: certified max error {x['max_error_bound']:.4g} at (batch {x['batch']}, head {x['head']}, "
              f"row {x['row']}, col {x['col']}); failing {x['failing']}, undecided {x['undecided']}")
    print("json: " + json.dumps({"verify_seconds": a, "torch_float64_seconds": t, "ratio": a / t, "rounds": rounds,
                                 "verify_runs": ours, "torch_runs": torch64, "report": report}))


def softcap_attention(q, k, v, cap):
    """softmax(cap·tanh(s·QKᵀ/cap))·V, s = 1/√d, in the tensors' dtype (torch has no softcap SDPA)."""
    scores = (q @ k.transpose(-1, -2)) * (q.shape[-1] ** -0.5)
    return torch.softmax(cap * torch.tanh(scores / cap), dim=-1) @ v


def softcap_seconds(q, k, v, cap, runs):
    with torch.inference_mode():
        softcap_attention(q, k, v, cap)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            softcap_attention(q, k, v, cap)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def additive_mask(n, mask):
    """The float64 additive attn_mask [n, n] (0 visible, -inf hidden) and the verify flags of MASK."""
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    if mask.startswith("softcap:"):
        return None, ["--softcap", mask.split(":")[1]], 1.0
    if mask == "causal":
        visible, flags = j <= i, ["--causal"]
    else:
        left = int(mask.split(":")[1])
        visible, flags = (j <= i) & (j >= i - left), ["--window", f"{left},0"]
    return np.where(visible, 0.0, -np.inf), flags, float(visible.mean())


def verify(folder, rounds, threads, binary, n, d, heads, mask=None):
    torch.set_num_threads(threads)
    g = np.random.default_rng(20261201)
    q, k, v = (g.standard_normal((1, heads, n, d)).astype(np.float32) for _ in range(3))
    add, flags, frac = additive_mask(n, mask) if mask else (None, [], 1.0)
    m32 = None if add is None else torch.from_numpy(add.astype(np.float32))
    m64 = None if add is None else torch.from_numpy(add)
    cap = float(mask.split(":")[1]) if mask and mask.startswith("softcap:") else None
    with torch.inference_mode():
        t32 = [torch.from_numpy(x) for x in (q, k, v)]
        o = (softcap_attention(*t32, cap) if cap else F.scaled_dot_product_attention(*t32, attn_mask=m32)).numpy()
    for name, x in zip("qkvo", (q, k, v, o)):
        np.save(f"{folder}/{name}.npy", x)
    q64, k64, v64 = (torch.from_numpy(x).to(torch.float64) for x in (q, k, v))
    cmd = [binary, "verify", "--q", f"{folder}/q.npy", "--k", f"{folder}/k.npy", "--v", f"{folder}/v.npy",
           "--candidate", f"{folder}/o.npy", "--atol", "1e-5", "--threads", str(threads), "--json"] + flags
    ours, torch64, report = [], [], None
    for _ in range(rounds):
        t = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True)
        ours.append(time.perf_counter() - t)
        if run.returncode not in (0, 1):
            sys.exit(f"error: attnbound verify failed: {run.stderr.strip()}")
        report = json.loads(run.stdout)
        torch64.append(softcap_seconds(q64, k64, v64, cap, 3) if cap else sdpa_seconds(q64, k64, v64, 3, attn_mask=m64))
    a, t = statistics.median(ours), statistics.median(torch64)
    r = report
    peer = "torch's float64 softcap math" if cap else "torch given the additive attn_mask"
    what = f"mask {mask} ({' '.join(flags)}, visible fraction {frac:.3f}; {peer})" if mask else "no mask"
    target = 3 if mask else 5
    print(f"verify n{n}_d{d}_h{heads} {what}, float32 torch candidate: attnbound verify {a:.3f} s (whole process), "
          f"torch F64 SDPA {t:.4f} s: verify/torch {a / t:.2f}x (target <= {target}x), medians of {rounds} interleaved rounds")
    print(f"  verify runs {[round(x, 3) for x in ours]}, torch runs {[round(x, 4) for x in torch64]}")
    print(f"  certified max error {r['max_error_bound']:.4g} at (batch {r['batch']}, head {r['head']}, row {r['row']}, "
          f"col {r['col']}); rows: float {r['rows_float']}, GMP {r['rows_exact']}, undecided {r['rows_undecided']}")
    print("json: " + json.dumps({"verify_seconds": a, "torch_float64_seconds": t, "ratio": a / t, "rounds": rounds,
                                 "verify_runs": ours, "torch_runs": torch64, "report": report}))


def whole(folder, rounds, threads, binary, heads, kv_heads, n, d):
    torch.set_num_threads(threads)
    g = np.random.default_rng(20261204)
    q = g.standard_normal((1, heads, n, d)).astype(np.float32)
    k, v = (g.standard_normal((1, kv_heads, n, d)).astype(np.float32) for _ in range(2))
    files = {x: f"{folder}/{x}.npy" for x in "qkv"}
    for x, a in zip("qkv", (q, k, v)):
        np.save(files[x], a)
    del q, k, v
    out_ours, out_torch = f"{folder}/o_ours.npy", f"{folder}/o_torch.npy"
    cmd = [binary, "attention", "--q", files["q"], "--k", files["k"], "--v", files["v"], "--causal", "--out", out_ours]

    def torch_once():
        t = time.perf_counter()
        qt, kt, vt = (torch.from_numpy(np.load(files[x])) for x in "qkv")
        with torch.inference_mode():
            o = F.scaled_dot_product_attention(qt, kt, vt, is_causal=True, enable_gqa=True)
        np.save(out_torch, o.numpy())
        return time.perf_counter() - t

    def io_once():
        t = time.perf_counter()
        size = 0
        for x in "qkv":
            with open(files[x], "rb") as f:
                size += len(f.read())
        data = bytes(heads * n * d * 4)
        with open(f"{folder}/io.bin", "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return time.perf_counter() - t

    ours, theirs, io = [], [], []
    for _ in range(rounds):
        t = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True)
        ours.append(time.perf_counter() - t)
        if run.returncode != 0:
            sys.exit(f"error: attnbound attention failed: {run.stderr.strip()}")
        theirs.append(torch_once())
        io.append(io_once())
    bench = subprocess.run([binary, "bench", "exact", "--n", str(n), "--d", str(d), "--causal", "--runs", "3",
                            "--threads", str(threads), "--json"], capture_output=True, text=True, check=True)
    kernel = heads * json.loads(bench.stdout)["results"][0]["seconds"]
    diff = float(np.max(np.abs(np.load(out_ours).astype(np.float64) - np.load(out_torch).astype(np.float64))))
    a, t, i = statistics.median(ours), statistics.median(theirs), statistics.median(io)
    print(f"attention whole process [1, {heads}, {n}, {d}] Q, {kv_heads} KV heads, causal, float32: attnbound {a:.3f} s, "
          f"torch (np.load + SDPA + np.save) {t:.3f} s: torch/ours {t / a:.2f}x (target >= 1.0)")
    print(f"  kernel {kernel:.3f} s ({heads} x bench exact, one head) + file I/O {i:.3f} s: "
          f"whole/(kernel + I/O) {a / (kernel + i):.2f} (target <= 1.3); max |ours - torch| {diff:.3g}")
    print("json: " + json.dumps({"attention_seconds": a, "torch_seconds": t, "ratio": t / a, "kernel_seconds": kernel,
                                 "io_seconds": i, "overhead_ratio": a / (kernel + i), "rounds": rounds,
                                 "attention_runs": ours, "torch_runs": theirs, "io_runs": io,
                                 "max_abs_difference": diff}))


def main():
    if sys.argv[1] == "whole":
        folder, rounds, threads, binary, heads, kv_heads, n, d = sys.argv[2:10]
        whole(folder, int(rounds), int(threads), binary, int(heads), int(kv_heads), int(n), int(d))
        return
    if sys.argv[1] == "verify-backward":
        folder, rounds, threads, binary, n, d, heads = sys.argv[2:9]
        verify_backward(folder, int(rounds), int(threads), binary, int(n), int(d), int(heads))
        return
    if sys.argv[1] == "backward":
        folder, rounds, threads, binary, n, d = sys.argv[2:8]
        backward(folder, int(rounds), int(threads), binary, int(n), int(d))
        return
    if sys.argv[1] in ("verify", "verify-masked"):
        folder, rounds, threads, binary, n, d, heads = sys.argv[2:9]
        mask = sys.argv[9] if sys.argv[1] == "verify-masked" else None
        verify(folder, int(rounds), int(threads), binary, int(n), int(d), int(heads), mask)
        return
    folder, runs, threads, causal, dtype = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
    torch.set_num_threads(threads)
    out = {}
    for name in sys.argv[6:]:
        q, k, v = (torch.from_numpy(np.load(f"{folder}/{x}_{name}.npy")).to(getattr(torch, dtype))[None, None] for x in "qkv")
        # attnbound's causal mask is bottom-right aligned; for n_q = n_k (and n_q = 1, where it masks nothing) this is is_causal.
        is_causal = causal and q.shape[-2] == k.shape[-2]
        # Every run after a cache flush, as attnbound's own runs (decode is bound by reading K and V).
        out[name] = sdpa_seconds(q, k, v, runs, is_causal, cold=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
