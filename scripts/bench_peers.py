"""PyTorch SDPA on the .npy inputs that `attnbound bench exact --inputs-out` wrote.

Usage: bench_peers.py DIR RUNS THREADS CAUSAL(0|1) DTYPE(float32|float64) NAME...
Prints one JSON line {name: median seconds}. Called by scripts/bench-peers.sh.
"""
import json
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

folder, runs, threads, causal, dtype = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
torch.set_num_threads(threads)
out = {}
for name in sys.argv[6:]:
    q, k, v = (torch.from_numpy(np.load(f"{folder}/{x}_{name}.npy")).to(getattr(torch, dtype))[None, None] for x in "qkv")
    # attnbound's causal mask is bottom-right aligned; for n_q = n_k (and n_q = 1, where it masks nothing) this is is_causal.
    is_causal = causal and q.shape[-2] == k.shape[-2]
    with torch.inference_mode():
        F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
            times.append(time.perf_counter() - t)
    out[name] = statistics.median(times)
print(json.dumps(out))
