"""Forward + backward time of every loss of the study on CPU, as a ratio to ``dice_ce``.

Usage: ``python bench/losses.py [--repeats 7] [--threads N]``

One batch of ``2 x 2 x 64 x 64 x 16`` logits against a synthetic tube target, with the logits of
a half-trained model (right in the bulk, wrong near the walls and in a few spurious blobs). The
losses are timed side by side: every round runs each loss once, in turn, and the table reports
the median over rounds, so a slow spell on the machine hits every loss alike. ``warp`` and
``topo`` are timed with the late topological term off (the first 70 % of training) and on.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from scipy import ndimage

from minivess_kedro.losses import LOSS_NAMES, build_loss

SHAPE = (2, 64, 64, 16)


def make_batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Synthetic tubes and the logits of an imperfect model (``B x 2 x H x W x D``, ``B x 1 x ...``)."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(SHAPE, dtype=bool)
    grid = np.indices(SHAPE[1:]).reshape(3, -1).T.astype(float)
    for b in range(SHAPE[0]):
        for _ in range(5):  # straight tubes of radius 1.5 to 3.5 voxels across the patch
            start = rng.uniform((0, 0, 0), SHAPE[1:])
            direction = rng.normal(size=3) * (1.0, 1.0, 0.3)
            direction /= np.linalg.norm(direction)
            offset = grid - start
            along = offset @ direction
            distance = np.linalg.norm(offset - along[:, None] * direction, axis=1)
            labels[b] |= (distance < rng.uniform(1.5, 3.5)).reshape(SHAPE[1:])
    signal = ndimage.gaussian_filter(labels.astype(float), (0, 1, 1, 0.5)) * 10.0 - 4.0
    noise = ndimage.gaussian_filter(rng.normal(size=SHAPE), (0, 1.5, 1.5, 1.0)) * 16.0
    fg = torch.from_numpy(signal + noise).float()
    logits = torch.stack([-fg / 2, fg / 2], dim=1)
    return logits, torch.from_numpy(labels[:, None].astype(np.int64))


def variants() -> dict[str, torch.nn.Module]:
    """Every loss, with ``warp`` and ``topo`` both inactive and active."""
    losses = {}
    for name in LOSS_NAMES:
        losses[name] = build_loss(name)
        if hasattr(losses[name], "set_training_progress"):
            active = build_loss(name)
            active.set_training_progress(1.0)
            losses[f"{name} (active)"] = active
    return losses


def time_once(loss: torch.nn.Module, logits: torch.Tensor, target: torch.Tensor) -> float:
    x = logits.clone().requires_grad_(True)
    start = time.perf_counter()
    loss(x, target).backward()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    logits, target = make_batch()
    pred = logits.argmax(dim=1, keepdim=True)
    wrong = (pred != target).float().mean().item()
    losses = variants()
    times: dict[str, list[float]] = {name: [] for name in losses}
    for loss in losses.values():  # warm-up
        time_once(loss, logits, target)
    for _ in range(args.repeats):
        for name, loss in losses.items():
            times[name].append(time_once(loss, logits, target))
    base = statistics.median(times["dice_ce"])
    print(
        f"batch {tuple(logits.shape)}, {wrong:.1%} voxels wrong, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, median of {args.repeats} rounds"
    )
    print("\n| loss | forward + backward (ms) | ratio to dice_ce |\n|---|---:|---:|")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"| `{name}` | {median * 1e3:.1f} | {median / base:.1f} |")


if __name__ == "__main__":
    main()
