"""Generation time of synthetic MiniVess-like volumes against the 2 s budget for 128 x 128 x 32.

Run: python bench/synthetic.py
"""

from __future__ import annotations

import time

from minivess_kedro.data.synthetic import generate_volume

BUDGET_S = 2.0
SIZES = [(128, 128, 32), (256, 256, 32), (512, 512, 22)]


def _time(shape: tuple[int, int, int], repeats: int) -> float:
    best = float("inf")
    for seed in range(repeats):
        start = time.perf_counter()
        generate_volume(seed, shape)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    reference = _time(SIZES[0], repeats=5)
    print(f"{'shape':>16} {'best of n (s)':>14} {'x 128x128x32':>13}")
    for shape in SIZES:
        seconds = reference if shape == SIZES[0] else _time(shape, repeats=2)
        print(f"{'x'.join(map(str, shape)):>16} {seconds:14.3f} {seconds / reference:13.1f}")
    print(f"128x128x32 uses {reference / BUDGET_S:.0%} of its {BUDGET_S:.0f} s budget")


if __name__ == "__main__":
    main()
