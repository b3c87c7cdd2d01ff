#!/usr/bin/env python3
"""Writes the .npy known-answer fixtures with this machine's NumPy (np.save).

NpyFixtureTests (Tests/AttnCoreTests/NpyFixtureTests.swift) checks that `Npy.encode` writes these bytes
exactly and that `Npy.decode` reads them back. The values are dyadic (exact in float32 and float64),
so the Swift test rebuilds them with the same formula: element i is (i - 3) / 4.

Usage: python3 scripts/make-npy-fixtures.py   (rewrites Tests/AttnCoreTests/Fixtures/*.npy)
"""
import os
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "AttnCoreTests", "Fixtures")
CASES = {  # name: (dtype, shape)
    "f4_2x3": ("<f4", (2, 3)),
    "f8_5": ("<f8", (5,)),
    "f8_2x2x3": ("<f8", (2, 2, 3)),
    "f4_0x4": ("<f4", (0, 4)),
}

def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (dtype, shape) in CASES.items():
        n = int(np.prod(shape))
        a = ((np.arange(n, dtype=np.float64) - 3) / 4).astype(dtype).reshape(shape)
        np.save(os.path.join(OUT, name + ".npy"), a)
    print(f"wrote {len(CASES)} fixtures to {os.path.normpath(OUT)} with numpy {np.__version__}")

if __name__ == "__main__":
    main()
